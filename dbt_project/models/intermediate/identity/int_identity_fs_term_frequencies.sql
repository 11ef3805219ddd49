{#- Term frequencies of the comparisons with term_frequency_adjustments
    (_identity__probabilistic.yml): per comparison, each normalised value's
    share of the records holding the attribute. The scoring replaces the u of
    an exact level by this share (floored at term_frequency_floor), so an
    exact match on a common surname or postcode says less than one on a rare
    value: two different people share a value v with probability about
    frequency(v), not the average u over all values. -#}
-- Jinja loops over the configured comparisons: sqlfluff's indentation rule
-- cannot follow them.
-- noqa: disable=LT02,LT05
{%- set fs = cdp.identity_fs_config() %}
{%- set tf_comparisons = cdp.identity_fs_tf_comparisons(fs) %}
with

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

values_held as (
    {%- for comparison in tf_comparisons %}
    {%- if not loop.first %}

    union all
    {%- endif %}

    select
        cast('{{ comparison.attribute }}' as {{ dbt.type_string() }}) as comparison_name,
        {{ cdp.identity_fs_normalized(comparison, 'records.' ~ comparison.attribute) }}
            as attribute_value
    from records
    {%- endfor %}
    {%- if not tf_comparisons %}

    select
        cast(null as {{ dbt.type_string() }}) as comparison_name,
        cast(null as {{ dbt.type_string() }}) as attribute_value
    from records
    where 1 = 0
    {%- endif %}

),

value_counts as (

    select
        comparison_name,
        attribute_value,
        count(*) as value_records
    from values_held
    where attribute_value is not null
    group by comparison_name, attribute_value

),

final as (

    select
        comparison_name,
        attribute_value,
        value_records,
        sum(value_records) over (partition by comparison_name) as attribute_records,
        cast(
            value_records * 1.0
            / sum(value_records) over (partition by comparison_name)
            as {{ cdp.type_double() }}
        ) as value_frequency
    from value_counts

)

select * from final
