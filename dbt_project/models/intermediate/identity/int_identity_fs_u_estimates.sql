{#- u = P(level | two different people) of every comparison level, from
    random pairs: per comparison, the `sample_records` records holding the
    attribute that come first in a seeded hash order (md5 of the seed and the
    record key, the same on every engine), and all their pairs. A level no
    sampled pair reached gets half a pair's share, 0.5 / (pairs + 1), so its
    weight stays finite. Settings: training.u_sampling in
    _identity__probabilistic.yml. -#}
-- Jinja loops over the configured comparisons and EM iterations: sqlfluff's
-- indentation rule cannot follow them.
-- noqa: disable=LT02,LT05
{%- set fs = cdp.identity_fs_config() %}
{%- set training = cdp.identity_fs_training(fs) %}
with

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

configured_levels as (
    {{ cdp.identity_fs_configured_levels(fs) }}

),
{%- for comparison in fs.comparisons %}
{%- set attribute = comparison.attribute %}
{%- set normalized = cdp.identity_normalize('records.' ~ attribute, comparison.normalizers)
    if comparison.get('normalizers') else 'records.' ~ attribute %}

ranked_{{ attribute }} as (

    select
        records.record_key,
        records.{{ attribute }} as attribute_value,
        row_number() over (
            order by
                {{ dbt.hash("'" ~ training.seed ~ ":' || records.record_key") }},
                records.record_key
        ) as sample_rank
    from records
    where {{ normalized }} is not null

),

sample_{{ attribute }} as (

    select
        record_key,
        attribute_value
    from ranked_{{ attribute }}
    where sample_rank <= {{ training.sample_records }}

),

levels_{{ attribute }} as (

    select
        cast('{{ attribute }}' as {{ dbt.type_string() }}) as comparison_name,
        {{ cdp.identity_fs_level(
            comparison, 'left_sample.attribute_value', 'right_sample.attribute_value'
        ) }} as level_name
    from sample_{{ attribute }} as left_sample
    inner join sample_{{ attribute }} as right_sample
        on left_sample.record_key < right_sample.record_key

),
{%- endfor %}

sampled_levels as (
    {%- for comparison in fs.comparisons %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select * from levels_{{ comparison.attribute }}
    {%- endfor %}

),

level_counts as (

    select
        comparison_name,
        level_name,
        count(*) as level_pairs
    from sampled_levels
    group by comparison_name, level_name

),

comparison_totals as (

    select
        comparison_name,
        sum(level_pairs) as sample_pairs
    from level_counts
    group by comparison_name

),

final as (

    select
        configured_levels.comparison_name,
        configured_levels.level_name,
        configured_levels.level_order,
        coalesce(level_counts.level_pairs, 0) as level_pairs,
        coalesce(comparison_totals.sample_pairs, 0) as sample_pairs,
        cast(case
            when level_counts.level_pairs > 0
                then cast(level_counts.level_pairs as {{ cdp.type_double() }}) / comparison_totals.sample_pairs
            else 0.5 / (coalesce(comparison_totals.sample_pairs, 0) + 1)
        end as {{ cdp.type_double() }}) as u_probability
    from configured_levels
    left join level_counts
        on
            configured_levels.comparison_name = level_counts.comparison_name
            and configured_levels.level_name = level_counts.level_name
    left join comparison_totals
        on configured_levels.comparison_name = comparison_totals.comparison_name

)

select * from final
