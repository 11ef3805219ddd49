{#- The relation a data test reads, after its `where` config (dbt's hook for it,
    overridden here): a plain condition filters as in dbt; the gate's two forms
    narrow an incremental model's test to what this build wrote, but only while
    the gate runs (var cdp__test_scope: gate, which `cdp build` sets; the full
    suite reads every row). docs/testing.md#which-data-tests-run-when.

    - `cdp_gate_rows(<marker>)`: the rows of the latest build, those whose
      <marker> column (`_processed_at`, `built_at`, ...) holds its largest value;
      for a check of each row on its own (not_null, accepted_values,
      relationships from this model).
    - `cdp_gate_keys(<marker>, <key>)`: every row whose <key> expression is the
      key of such a row; for `unique`, so a new row that repeats an old row's
      key is caught.
-#}
{% macro get_where_subquery(relation) -%}
    {{ return(adapter.dispatch('get_where_subquery', 'cdp')(relation)) }}
{%- endmacro %}

{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if not where -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set gate_form = where.strip().startswith(('cdp_gate_rows(', 'cdp_gate_keys(')) -%}
    {%- if not gate_form -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') }}
    {%- endif -%}
    {%- if var('cdp__test_scope', 'all') != 'gate' -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set form, rest = where.strip().split('(', 1) -%}
    {%- if not rest.endswith(')') -%}
        {{ exceptions.raise_compiler_error("where: " ~ where ~ " must end with ')'") }}
    {%- endif -%}
    {%- set arguments = rest[:-1].split(',', 1) | map('trim') | list -%}
    {%- set marker = arguments[0] -%}
    {%- set latest -%}
        {{ marker }} = (select max({{ marker }}) from {{ relation }})
    {%- endset -%}
    {%- if form == 'cdp_gate_rows' -%}
        {%- if arguments | length != 1 -%}
            {{ exceptions.raise_compiler_error("where: " ~ where ~ " takes one column") }}
        {%- endif -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ latest ~ ') dbt_subquery') }}
    {%- endif -%}
    {%- if arguments | length != 2 -%}
        {{ exceptions.raise_compiler_error("where: " ~ where ~ " takes a column and a key") }}
    {%- endif -%}
    {%- set key = arguments[1] -%}
    {%- set filtered -%}
        (
            select * from {{ relation }}
            where {{ key }} in (select {{ key }} from {{ relation }} where {{ latest }})
        ) dbt_subquery
    {%- endset -%}
    {{ return(filtered) }}
{%- endmacro %}
