{#- SQL (two CTEs, `<rule>__keys` and `<rule>__pairs`) that finds the record
    pairs one validated match rule links. Expects CTEs `records`
    (int_identity_records_prepared) and `name_aliases` (seed) in scope.

    Exact conditions (without null_matches) are the blocking key: records are only compared inside a
    block of equal, non-null normalised values, and blocks larger than
    `max_block_size` are skipped. A rule made only of exact conditions links
    every record of a block to the block's smallest record key (a star: the
    same clusters as all pairs, with n - 1 edges instead of n^2 / 2). Fuzzy
    conditions, and exact ones with null_matches (equal or missing), compare
    the pairs inside a block; the pair's score is the
    lowest similarity among them (1.0 for exact-only rules). A fuzzy
    condition with the name_alias normaliser compares the names both after
    and before the alias lookup and keeps the better similarity, so a typo
    in a name the seed knows ('Giorogs' against 'Giorgos', looked up as
    'georgios') is judged on the names as typed. -#}
{% macro identity_rule_pairs(rule, max_block_size) -%}
    {{ return(adapter.dispatch('identity_rule_pairs', 'cdp')(rule, max_block_size)) }}
{%- endmacro %}

{% macro default__identity_rule_pairs(rule, max_block_size) -%}
    {%- set prefix = 'rule_' ~ rule.name -%}
    {%- set exact_keys = [] -%}
    {%- set fuzzy = [] -%}
    {%- for condition in rule.conditions -%}
        {%- if condition.comparison == 'exact' and not condition.null_matches -%}
            {%- do exact_keys.append('key_' ~ loop.index) -%}
        {%- else -%}
            {%- do fuzzy.append((loop.index, condition)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set block_partition = exact_keys | join(', ') -%}
{{ prefix }}__keys as (

    select
        records.record_key,
        records.source_name,
        {%- for condition in rule.conditions %}
        {%- set normalized = cdp.identity_normalize(
            'cast(records.' ~ condition.attribute ~ ' as ' ~ dbt.type_string() ~ ')',
            condition.normalizers
        ) %}
        {%- if 'name_alias' in condition.normalizers %}
        coalesce(alias_{{ loop.index }}.canonical_name, {{ normalized }}) as key_{{ loop.index }},
        {{ normalized }} as unaliased_key_{{ loop.index }},
        {%- else %}
        {{ normalized }} as key_{{ loop.index }},
        {%- endif %}
        {%- endfor %}
        count(*) over (
            partition by
                {%- for condition in rule.conditions if condition.comparison == 'exact' and not condition.null_matches %}
                {{ cdp.identity_normalize(
                    'cast(records.' ~ condition.attribute ~ ' as ' ~ dbt.type_string() ~ ')',
                    condition.normalizers
                ) }}{{ ',' if not loop.last }}
                {%- endfor %}
        ) as block_size
    from records
    {%- for condition in rule.conditions %}
    {%- if 'name_alias' in condition.normalizers %}
    left join name_aliases as alias_{{ loop.index }}
        on alias_{{ loop.index }}.alias_name = {{ cdp.identity_normalize(
            'cast(records.' ~ condition.attribute ~ ' as ' ~ dbt.type_string() ~ ')',
            condition.normalizers
        ) }}
    {%- endif %}
    {%- endfor %}
    where
        1 = 1
        {%- for condition in rule.conditions %}
        {%- if condition.comparison == 'exact' and not condition.null_matches %}
        and {{ cdp.identity_normalize(
            'cast(records.' ~ condition.attribute ~ ' as ' ~ dbt.type_string() ~ ')',
            condition.normalizers
        ) }} is not null
        {%- endif %}
        {%- if condition.max_people_per_value is not none %}
        and coalesce(records.{{ condition.attribute }}_people_count, 0)
        <= {{ condition.max_people_per_value }}
        {%- endif %}
        {%- endfor %}
        {%- if rule.sources | length > 0 %}
        and records.source_name in (
            {%- for source_name in rule.sources -%}
            '{{ source_name }}'{{ ', ' if not loop.last }}
            {%- endfor -%}
        )
        {%- endif %}

),

{{ prefix }}__pairs as (
    {%- if fuzzy | length == 0 and rule.scope != 'across_sources' %}

    select
        left_record_key,
        right_record_key,
        '{{ rule.name }}' as rule_name,
        {{ rule.order }} as rule_order,
        cast(1.0 as real) as score
    from (
        select
            min(record_key) over (
                partition by {{ block_partition }}
                {%- if rule.scope == 'within_source' %}, source_name{% endif %}
            ) as left_record_key,
            record_key as right_record_key
        from {{ prefix }}__keys
        where block_size <= {{ max_block_size }}
    ) as stars
    where left_record_key <> right_record_key
    {%- else %}

    select
        left_side.record_key as left_record_key,
        right_side.record_key as right_record_key,
        '{{ rule.name }}' as rule_name,
        {{ rule.order }} as rule_order,
        cast(
            {%- if fuzzy | length == 0 %} 1.0
            {%- else %}
            least(
                {%- for index, condition in fuzzy %}
                {%- if 'name_alias' in condition.normalizers %}
                coalesce(greatest({{ cdp.identity_similarity(
                    condition.comparison,
                    'left_side.key_' ~ index,
                    'right_side.key_' ~ index
                ) }}, {{ cdp.identity_similarity(
                    condition.comparison,
                    'left_side.unaliased_key_' ~ index,
                    'right_side.unaliased_key_' ~ index
                ) }}), 1.0){{ ',' if not loop.last }}
                {%- else %}
                coalesce({{ cdp.identity_similarity(
                    condition.comparison,
                    'left_side.key_' ~ index,
                    'right_side.key_' ~ index
                ) }}, 1.0){{ ',' if not loop.last }}
                {%- endif %}
                {%- endfor %}
                {%- if fuzzy | length == 1 %}, 1.0{% endif %}
            )
            {%- endif %} as real
        ) as score
    from {{ prefix }}__keys as left_side
    inner join {{ prefix }}__keys as right_side
        on
            left_side.record_key < right_side.record_key
            {%- for key in exact_keys %}
            and left_side.{{ key }} = right_side.{{ key }}
            {%- endfor %}
            {%- if rule.scope == 'within_source' %}
            and left_side.source_name = right_side.source_name
            {%- elif rule.scope == 'across_sources' %}
            and left_side.source_name <> right_side.source_name
            {%- endif %}
    where
        left_side.block_size <= {{ max_block_size }}
        {%- for index, condition in fuzzy %}
        and (
            {%- if condition.null_matches %}
            left_side.key_{{ index }} is null
            or right_side.key_{{ index }} is null
            or
            {%- endif %}
            {%- for prefix in (['', 'unaliased_'] if 'name_alias' in condition.normalizers else ['']) %}
            {%- set left_key = 'left_side.' ~ prefix ~ 'key_' ~ index %}
            {%- set right_key = 'right_side.' ~ prefix ~ 'key_' ~ index %}
            {%- if not loop.first %}
            or
            {%- endif %}
            {%- if condition.comparison == 'exact' %}
            {{ left_key }} = {{ right_key }}
            {%- elif condition.comparison == 'levenshtein' %}
            {{ cdp.identity_levenshtein(left_key, right_key) }} <= {{ condition.threshold }}
            {%- else %}
            {{ cdp.identity_similarity(
                condition.comparison, left_key, right_key
            ) }} >= {{ condition.threshold }}
            {%- endif %}
            {%- endfor %}
        )
        {%- endfor %}
    {%- endif %}

)
{%- endmacro %}
