{#- The reason of the first blocklist pattern (seed identity_blocked_values,
    `blocked_values`: identifier_type, pattern, reason) that the value matches,
    or null: the smallest reason when several match. The seed's rows are read
    when the model runs and written into the SQL as literal patterns, one
    `when` per pattern, so each value is tested against its type's few
    patterns with regular expressions compiled once, instead of a join of
    every value with every pattern row (a regular expression from a column is
    compiled again for each pair). -#}
{% macro identity_blocked_pattern_reason(type_expression, value_expression, blocked_values) -%}
    {{ return(adapter.dispatch('identity_blocked_pattern_reason', 'cdp')(
        type_expression, value_expression, blocked_values
    )) }}
{%- endmacro %}

{% macro default__identity_blocked_pattern_reason(type_expression, value_expression, blocked_values) -%}
    {%- set patterns = [] -%}
    {#- the seed is a parent of the calling model, so a build always has it;
        a compile against an empty warehouse (the SQL linter) sees no patterns -#}
    {%- if execute and adapter.get_relation(
        database=blocked_values.database,
        schema=blocked_values.schema,
        identifier=blocked_values.identifier,
    ) is not none -%}
        {%- set rows = run_query(
            'select identifier_type, pattern, reason from ' ~ blocked_values
            ~ ' where pattern is not null order by reason, identifier_type, pattern'
        ) -%}
        {%- set patterns = rows.rows -%}
    {%- endif -%}
    {%- if patterns | length == 0 -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        case
            {%- for identifier_type, pattern, reason in patterns %}
            when
                {{ type_expression }} = '{{ identifier_type | replace("'", "''") }}'
                and {{ cdp.matches_pattern(value_expression, pattern) }}
                then '{{ reason | replace("'", "''") }}'
            {%- endfor %}
        end
    {%- endif -%}
{%- endmacro %}
