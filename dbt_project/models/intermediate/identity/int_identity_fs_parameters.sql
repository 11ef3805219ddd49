{#- The trained Fellegi-Sunter parameters, one row per comparison level: u
    from random pairs (int_identity_fs_u_estimates) and m by
    expectation-maximisation with u fixed, run once per training blocking
    rule over the pairs that rule blocks (int_identity_fs_training_patterns:
    the comparisons the rule blocks on are left out of its run, their level
    'null'), and each level's m the mean over the runs that estimated its
    comparison (Splink's approach). EM runs on the level patterns (one row per
    rule and distinct combination of levels, with its count): the E step gives
    each pattern its match probability
    lambda * prod(m) / (lambda * prod(m) + (1 - lambda) * prod(u)) over its
    non-null levels, the M step sets each level's m to its share of the
    expected matches and the run's lambda to its expected share of matches
    (a nuisance parameter of the run, not the model's prior: that is
    int_identity_fs_prior). The iterations are unrolled
    (training.em.max_iterations CTEs); after the first whose largest change of
    an m or lambda in a run is below training.em.tolerance, that run's
    parameters stay as they are (em_converged, em_iterations). An m or u set
    by hand in the YAML is used as given (m_source, u_source 'yaml'); a
    comparison no run estimated keeps its m_start (m_source 'start'). -#}
-- Jinja loops over the configured comparisons and EM iterations: sqlfluff's
-- indentation rule cannot follow them.
-- noqa: disable=LT02,LT05
{%- set fs = cdp.identity_fs_config() %}
{%- set training = cdp.identity_fs_training(fs) %}
{%- set iterations = training.max_iterations | int %}
{%- set attributes = fs.comparisons | map(attribute='attribute') | list %}
{#- On DuckDB and PostgreSQL the iterations are CTEs of this query, each
    materialized. Spark has no materialized CTE: it expands a CTE, or a
    cached view, wherever it is referenced, and iteration k reads k - 1
    twice, so the plan doubled with each iteration (30 never finished
    planning). There the level patterns and each iteration are written to a
    table first, iterations alternating between two (<this>__em_a and
    __em_b: a table cannot be overwritten by a query that reads it), and this
    query reads the last one. The three tables stay, small, beside the model. -#}
{%- set scratch = this.schema ~ '.' ~ this.identifier ~ '__em_' %}
{%- set spark = target.type == 'spark' %}
{%- set prefix -%}

training_patterns as (

    select * from {{ ref('int_identity_fs_training_patterns') }}

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
        *,
        row_number() over (
            order by training_rule, {{ attributes | join('_level, ') }}_level
        ) as pattern_id
    from training_patterns

),

pattern_levels as (
    {%- for attribute in attributes %}

    select
        training_rule,
        pattern_id,
        pair_count,
        cast('{{ attribute }}' as {{ dbt.type_string() }}) as comparison_name,
        {{ attribute }}_level as level_name
    from pattern_counts
    where {{ attribute }}_level != 'null'

    union all
    {%- endfor %}

    select
        training_rule,
        pattern_id,
        pair_count,
        cast('__prior' as {{ dbt.type_string() }}) as comparison_name,
        cast('prior' as {{ dbt.type_string() }}) as level_name
    from pattern_counts

),

-- the comparisons each run estimates: those some pair of the run has a level of
run_comparisons as (

    select
        training_rule,
        comparison_name,
        sum(pair_count) as run_pairs
    from pattern_levels
    group by training_rule, comparison_name

),

run_levels as (

    select
        run_comparisons.training_rule,
        levels_with_u.*
    from run_comparisons
    inner join levels_with_u
        on run_comparisons.comparison_name = levels_with_u.comparison_name

),

params_0 as (

    select
        training_rule,
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
    from run_levels

)
{%- endset %}
{%- if spark and execute %}
{%- set statements = [(scratch ~ 'patterns', 'with ' ~ prefix ~ '\nselect * from pattern_levels'),
                      (scratch ~ 'a', 'with ' ~ prefix ~ '\nselect * from params_0')] %}
{%- for k in range(1, iterations + 1) %}
{%- do statements.append((scratch ~ ('b' if k % 2 else 'a'), 'with '
    ~ cdp.identity_fs_em_iteration(
        k, scratch ~ ('a' if k % 2 else 'b'), scratch ~ 'patterns', training)
    ~ '\nselect * from params_' ~ k)) %}
{%- endfor %}
{%- for table, query in statements %}
{%- do run_query('drop table if exists ' ~ table) %}
{%- do run_query('create table ' ~ table ~ ' using parquet as ' ~ query) %}
{%- endfor %}
{%- endif %}
with

{{ prefix }},
{%- if not spark %}
{%- for k in range(1, iterations + 1) %}

{{ cdp.identity_fs_em_iteration(k, 'params_' ~ (k - 1), 'pattern_levels', training) }},
{%- endfor %}
{%- endif %}

runs as (

    select
        params.*,
        max(case
            when params.comparison_name = '__prior' then params.m_probability
        end) over (partition by params.training_rule) as run_lambda,
        run_comparisons.run_pairs
    from {{ (scratch ~ ('b' if iterations % 2 else 'a')) if spark else 'params_' ~ iterations }} as params
    inner join run_comparisons
        on
            params.training_rule = run_comparisons.training_rule
            and params.comparison_name = run_comparisons.comparison_name

),

combined as (

    select
        comparison_name,
        level_name,
        avg(m_probability) as m_probability,
        count(*) as em_runs,
        sum(run_pairs) as em_pairs,
        max(coalesce(converged_at, {{ iterations }})) as em_iterations,
        min(case when converged_at is null then 0 else 1 end) = 1 as em_converged,
        min(run_lambda) as em_lambda_min,
        max(run_lambda) as em_lambda_max
    from runs
    where comparison_name != '__prior'
    group by comparison_name, level_name

),

final as (

    select
        levels_with_u.comparison_name,
        levels_with_u.level_name,
        levels_with_u.level_order,
        cast(round(cast(
            coalesce(levels_with_u.fixed_m, combined.m_probability, levels_with_u.start_m)
            as {{ dbt.type_numeric() }}), 6) as {{ cdp.type_double() }}) as m_probability,
        cast(round(cast(levels_with_u.base_u as {{ dbt.type_numeric() }}), 6)
            as {{ cdp.type_double() }}) as u_probability,
        case
            when levels_with_u.fixed_m is not null then 'yaml'
            when combined.m_probability is not null then 'trained'
            else 'start'
        end as m_source,
        case
            when levels_with_u.fixed_u is not null then 'yaml' else 'sampled'
        end as u_source,
        coalesce(combined.em_runs, 0) as em_runs,
        coalesce(combined.em_iterations, 0) as em_iterations,
        coalesce(combined.em_converged, false) as em_converged,
        cast(round(cast(combined.em_lambda_min as {{ dbt.type_numeric() }}), 6)
            as {{ cdp.type_double() }}) as em_lambda_min,
        cast(round(cast(combined.em_lambda_max as {{ dbt.type_numeric() }}), 6)
            as {{ cdp.type_double() }}) as em_lambda_max,
        coalesce(combined.em_pairs, 0) as em_pairs,
        levels_with_u.sample_pairs as u_sample_pairs,
        {{ dbt.current_timestamp() }} as trained_at
    from levels_with_u
    left join combined
        on
            levels_with_u.comparison_name = combined.comparison_name
            and levels_with_u.level_name = combined.level_name
    where levels_with_u.comparison_name != '__prior'

)

select * from final
