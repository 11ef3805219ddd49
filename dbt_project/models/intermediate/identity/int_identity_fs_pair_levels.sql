{#- The blocked record pairs of the Fellegi-Sunter model and, per comparison
    of _identity__probabilistic.yml, the level each pair is at, and for a
    term-frequency adjusted comparison at an exact level the value both
    records share (<attribute>_tf_value). int_identity_pairs_probabilistic
    weighs them. -#}
-- Jinja loops over the configured comparisons and EM iterations: sqlfluff's
-- indentation rule cannot follow them.
-- noqa: disable=LT02,LT05
{%- set fs = cdp.identity_fs_config() %}
{%- set tf_comparisons = cdp.identity_fs_tf_comparisons(fs) %}
with

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

blocked as (
    {{ cdp.identity_fs_blocks(fs, 'records') }}

),

first_blocks as (

    select
        *,
        row_number() over (
            partition by left_record_key, right_record_key
            order by blocking_order
        ) as block_rank
    from blocked

),

final as (

    select
        first_blocks.left_record_key,
        first_blocks.right_record_key,
        first_blocks.blocking_rule,
        {%- for comparison in tf_comparisons %}
        {%- set exact_levels = comparison.levels | selectattr('comparison', 'defined')
            | selectattr('comparison', 'equalto', 'exact') | map(attribute='name') | list %}
        case
            when {{ cdp.identity_fs_level(
                comparison,
                'left_records.' ~ comparison.attribute,
                'right_records.' ~ comparison.attribute,
            ) }} in ('{{ exact_levels | join("', '") }}')
                then {{ cdp.identity_fs_normalized(comparison, 'left_records.' ~ comparison.attribute) }}
        end as {{ comparison.attribute }}_tf_value,
        {%- endfor %}
        {%- for comparison in fs.comparisons %}
        {{ cdp.identity_fs_level(
            comparison,
            'left_records.' ~ comparison.attribute,
            'right_records.' ~ comparison.attribute,
        ) }} as {{ comparison.attribute }}_level{{ ',' if not loop.last }}
        {%- endfor %}
    from first_blocks
    inner join records as left_records
        on first_blocks.left_record_key = left_records.record_key
    inner join records as right_records
        on first_blocks.right_record_key = right_records.record_key
    where first_blocks.block_rank = 1

)

select * from final
