{#- The pairs EM learns m from, one EM run per training blocking rule
    (training.blocking in _identity__probabilistic.yml), as level patterns:
    per rule, one row per distinct combination of comparison levels of the
    pairs the rule blocks, with its count. The comparisons a rule blocks on
    (an attribute among its keys) and those it names in `leave_out` are level
    'null' in its run: their m cannot be learnt from pairs that agree on them
    by construction. A pair blocked by two rules counts in both runs. -#}
-- Jinja loops over the configured comparisons and training rules: sqlfluff's
-- indentation rule cannot follow them.
-- noqa: disable=LT02,LT05
{%- set fs = cdp.identity_fs_config() %}
{%- set training = cdp.identity_fs_training(fs) %}
{%- set attributes = fs.comparisons | map(attribute='attribute') | list %}
with

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

blocked as (
    {{ cdp.identity_fs_blocks(
        {'blocking': training.blocking, 'max_block_size': fs.get('max_block_size', 5000)},
        'records',
    ) }}

),

pair_levels as (

    select
        blocked.blocking_rule as training_rule,
        {%- for comparison in fs.comparisons %}
        {%- set left_out_by = [] %}
        {%- for rule in training.blocking
            if comparison.attribute in cdp.identity_fs_left_out(rule) %}
        {%- do left_out_by.append(rule.name) %}
        {%- endfor %}
        case
            {%- if left_out_by %}
            when blocked.blocking_rule in ('{{ left_out_by | join("', '") }}') then 'null'
            {%- endif %}
            when true then {{ cdp.identity_fs_level(
                comparison,
                'left_records.' ~ comparison.attribute,
                'right_records.' ~ comparison.attribute,
            ) }}
        end as {{ comparison.attribute }}_level{{ ',' if not loop.last }}
        {%- endfor %}
    from blocked
    inner join records as left_records
        on blocked.left_record_key = left_records.record_key
    inner join records as right_records
        on blocked.right_record_key = right_records.record_key

),

final as (

    select
        training_rule,
        {%- for attribute in attributes %}
        {{ attribute }}_level,
        {%- endfor %}
        count(*) as pair_count
    from pair_levels
    group by training_rule, {{ attributes | join('_level, ') }}_level

)

select * from final
