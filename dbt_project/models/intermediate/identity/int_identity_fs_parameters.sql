{#- The trained Fellegi-Sunter parameters, one row per comparison level: u
    from random pairs (int_identity_fs_u_estimates) and m by
    expectation-maximisation on the blocked pairs, u fixed. EM runs on the
    pairs' level patterns (one row per distinct combination of levels, with
    its count): the E step gives each pattern its match probability
    lambda * prod(m) / (lambda * prod(m) + (1 - lambda) * prod(u)) over its
    non-null levels, the M step sets each level's m to its share of the
    expected matches and lambda to the expected share of matches. The
    iterations are unrolled (training.em.max_iterations CTEs); after the first
    whose largest change of m or lambda is below training.em.tolerance the
    parameters stay as they are (em_converged, em_iterations). An m or u set by
    hand in the YAML is used as given (m_source, u_source 'yaml'). -#}
-- Jinja loops over the configured comparisons and EM iterations: sqlfluff's
-- indentation rule cannot follow them.
-- noqa: disable=LT02,LT05
{%- set fs = cdp.identity_fs_config() %}
{%- set training = cdp.identity_fs_training(fs) %}
{%- set iterations = training.max_iterations | int %}
{%- set attributes = fs.comparisons | map(attribute='attribute') | list %}
with

pair_levels as (

    select * from {{ ref('int_identity_fs_pair_levels') }}

),

u_estimates as (

    select * from {{ ref('int_identity_fs_u_estimates') }}

),

configured_levels as (
    {{ cdp.identity_fs_configured_levels(fs) }}
    union all
    select
        cast('__prior' as {{ dbt.type_string() }}) as comparison_name,
        cast('prior' as {{ dbt.type_string() }}) as level_name,
        0 as level_order,
        cast(null as {{ cdp.type_double() }}) as fixed_m,
        cast(null as {{ cdp.type_double() }}) as fixed_u,
        cast({{ training.start_lambda }} as {{ cdp.type_double() }}) as start_m

),

levels_with_u as (

    select
        configured_levels.*,
        coalesce(
            configured_levels.fixed_u, u_estimates.u_probability
        ) as base_u,
        coalesce(u_estimates.sample_pairs, 0) as sample_pairs
    from configured_levels
    left join u_estimates
        on
            configured_levels.comparison_name = u_estimates.comparison_name
            and configured_levels.level_name = u_estimates.level_name

),

pattern_counts as (

    select
        {%- for attribute in attributes %}
        {{ attribute }}_level,
        {%- endfor %}
        count(*) as pair_count,
        row_number() over (
            order by {{ attributes | join('_level, ') }}_level
        ) as pattern_id
    from pair_levels
    group by {{ attributes | join('_level, ') }}_level

),

pattern_levels as (
    {%- for attribute in attributes %}

    select
        pattern_id,
        pair_count,
        cast('{{ attribute }}' as {{ dbt.type_string() }}) as comparison_name,
        {{ attribute }}_level as level_name
    from pattern_counts
    where {{ attribute }}_level != 'null'

    union all
    {%- endfor %}

    select
        pattern_id,
        pair_count,
        cast('__prior' as {{ dbt.type_string() }}) as comparison_name,
        cast('prior' as {{ dbt.type_string() }}) as level_name
    from pattern_counts

),

params_0 as (

    select
        comparison_name,
        level_name,
        level_order,
        fixed_m,
        start_m,
        base_u,
        coalesce(fixed_m, start_m) as m_probability,
        case
            when comparison_name = '__prior' then 1 - start_m else base_u
        end as u_probability,
        cast(null as integer) as converged_at,
        cast(null as {{ cdp.type_double() }}) as iteration_change
    from levels_with_u

),
{%- for k in range(1, iterations + 1) %}

-- EM iteration {{ k }}: E step
posterior_{{ k }} as {{ cdp.identity_fs_materialized() }} (

    select
        pattern_levels.pattern_id,
        pattern_levels.pair_count,
        pattern_levels.comparison_name,
        pattern_levels.level_name,
        params.m_probability as previous_m,
        params.converged_at as previous_converged_at,
        1.0 / (1.0 + exp(sum(
            ln(params.u_probability) - ln(params.m_probability)
        ) over (partition by pattern_levels.pattern_id))) as match_posterior
    from pattern_levels
    inner join params_{{ k - 1 }} as params
        on
            pattern_levels.comparison_name = params.comparison_name
            and pattern_levels.level_name = params.level_name

),

-- M step
mass_{{ k }} as {{ cdp.identity_fs_materialized() }} (

    select
        comparison_name,
        level_name,
        sum(pair_count * match_posterior) as match_mass,
        sum(pair_count) as pair_mass,
        max(previous_m) as previous_m,
        max(previous_converged_at) as previous_converged_at
    from posterior_{{ k }}
    group by comparison_name, level_name

),

updated_{{ k }} as {{ cdp.identity_fs_materialized() }} (

    select
        levels_with_u.comparison_name,
        levels_with_u.level_name,
        levels_with_u.level_order,
        levels_with_u.fixed_m,
        levels_with_u.start_m,
        levels_with_u.base_u,
        mass_{{ k }}.match_mass,
        mass_{{ k }}.pair_mass,
        mass_{{ k }}.previous_m,
        max(mass_{{ k }}.previous_converged_at) over () as previous_converged_at,
        sum(case
            when levels_with_u.fixed_m is null
                then coalesce(mass_{{ k }}.match_mass, 0)
        end) over (partition by levels_with_u.comparison_name) as trained_mass,
        coalesce(sum(levels_with_u.fixed_m) over (
            partition by levels_with_u.comparison_name
        ), 0) as fixed_total
    from levels_with_u
    left join mass_{{ k }}
        on
            levels_with_u.comparison_name = mass_{{ k }}.comparison_name
            and levels_with_u.level_name = mass_{{ k }}.level_name

),

moved_{{ k }} as {{ cdp.identity_fs_materialized() }} (

    select
        comparison_name,
        level_name,
        level_order,
        fixed_m,
        start_m,
        base_u,
        previous_m,
        previous_converged_at,
        case
            when previous_converged_at is not null
                then coalesce(previous_m, fixed_m, {{ training.min_probability }})
            when fixed_m is not null then fixed_m
            when comparison_name = '__prior'
                then greatest(
                    least(match_mass / pair_mass, 1 - {{ training.min_probability }}),
                    {{ training.min_probability }}
                )
            else greatest(
                coalesce(
                    coalesce(match_mass, 0) / nullif(trained_mass, 0) * (1 - fixed_total),
                    start_m
                ),
                {{ training.min_probability }}
            )
        end as m_probability
    from updated_{{ k }}

),

params_{{ k }} as {{ cdp.identity_fs_materialized() }} (

    select
        comparison_name,
        level_name,
        level_order,
        fixed_m,
        start_m,
        base_u,
        m_probability,
        case
            when comparison_name = '__prior' then 1 - m_probability else base_u
        end as u_probability,
        coalesce(
            previous_converged_at,
            case
                when max(abs(m_probability - coalesce(previous_m, m_probability))) over ()
                    < {{ training.tolerance }}
                    then {{ k }}
            end
        ) as converged_at,
        max(abs(m_probability - coalesce(previous_m, m_probability))) over ()
            as iteration_change
    from moved_{{ k }}

),
{%- endfor %}

trained as (

    select
        *,
        max(case
            when comparison_name = '__prior' then m_probability
        end) over () as em_lambda
    from params_{{ iterations }}

),

blocked_totals as (

    select sum(pair_count) as pairs_used
    from pattern_counts

),

final as (

    select
        trained.comparison_name,
        trained.level_name,
        trained.level_order,
        cast(round(cast(trained.m_probability as {{ dbt.type_numeric() }}), 6)
            as {{ cdp.type_double() }}) as m_probability,
        cast(round(cast(trained.u_probability as {{ dbt.type_numeric() }}), 6)
            as {{ cdp.type_double() }}) as u_probability,
        case
            when trained.fixed_m is not null then 'yaml' else 'trained'
        end as m_source,
        case
            when levels_with_u.fixed_u is not null then 'yaml' else 'sampled'
        end as u_source,
        coalesce(trained.converged_at, {{ iterations }}) as em_iterations,
        trained.converged_at is not null as em_converged,
        cast(round(cast(trained.em_lambda as {{ dbt.type_numeric() }}), 6)
            as {{ cdp.type_double() }}) as em_lambda,
        coalesce(blocked_totals.pairs_used, 0) as em_pairs,
        levels_with_u.sample_pairs as u_sample_pairs,
        {{ dbt.current_timestamp() }} as trained_at
    from trained
    inner join levels_with_u
        on
            trained.comparison_name = levels_with_u.comparison_name
            and trained.level_name = levels_with_u.level_name
    cross join blocked_totals
    where trained.comparison_name != '__prior'

)

select * from final
