{#- Fellegi-Sunter scores of the blocked record pairs: per comparison of
    _identity__probabilistic.yml the pair's level and its partial weight
    log2(m / u); the match weight is the prior plus their sum. Pairs at or
    above the threshold are matches (is_match). They do not feed the clusters
    yet (`feed_edges` is not read: see docs/identity.md). Weights
    are rounded to 4 decimals (PostgreSQL computes them in numeric) and stored
    as floats, so every engine stores the same numbers. -#}
{%- set fs = cdp.identity_fs_config() %}
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

levels as (

    select
        first_blocks.left_record_key,
        first_blocks.right_record_key,
        first_blocks.blocking_rule,
        {%- for comparison in fs.comparisons %}
        {{ cdp.identity_fs_level(
            comparison,
            'left_records.' ~ comparison.attribute,
            'right_records.' ~ comparison.attribute,
        ) }} as {{ comparison.attribute }}_level,
        {%- endfor %}
        1 as is_scored
    from first_blocks
    inner join records as left_records
        on first_blocks.left_record_key = left_records.record_key
    inner join records as right_records
        on first_blocks.right_record_key = right_records.record_key
    where first_blocks.block_rank = 1

),

weights as (

    select
        levels.*,
        {%- for comparison in fs.comparisons %}
        {{ cdp.identity_fs_weight(comparison, 'levels.' ~ comparison.attribute ~ '_level') }}  -- noqa: LT02, LT05
        as {{ comparison.attribute }}_raw_weight,  -- noqa: LT02
        {%- endfor %}
        1 as is_weighted
    from levels

),

summed as (

    select
        weights.*,
        {{ fs.prior_match_weight }}
        {%- for comparison in fs.comparisons %}
            + weights.{{ comparison.attribute }}_raw_weight
        {%- endfor %}
            as raw_match_weight
    from weights

),

final as (

    select
        left_record_key,
        right_record_key,
        blocking_rule,
        {%- for comparison in fs.comparisons %}
        {{ comparison.attribute }}_level,  -- noqa: LT02
        cast(round({{ comparison.attribute }}_raw_weight, 4) as {{ dbt.type_float() }}) as {{ comparison.attribute }}_weight,  -- noqa: LT02, LT05
        {%- endfor %}
        cast(round(raw_match_weight, 4) as {{ dbt.type_float() }}) as match_weight,
        cast(round(
            power(2.0, raw_match_weight) / (1 + power(2.0, raw_match_weight)), 6
        ) as {{ dbt.type_float() }}) as match_probability,
        raw_match_weight >= {{ fs.threshold }} as is_match
    from summed

)

select * from final
