{#- One EM iteration k of int_identity_fs_parameters as five CTEs (no
    leading `with`, no trailing comma), ending in params_k: the E step
    (posterior_k), the M step (mass_k, updated_k, moved_k) and the
    convergence check (params_k). `previous` is the relation of iteration
    k - 1's parameters, `patterns` that of the level patterns. -#}
{% macro identity_fs_em_iteration(k, previous, patterns, training) -%}
-- EM iteration {{ k }}: E step
posterior_{{ k }} as {{ cdp.identity_fs_materialized() }} (

    select
        pattern_levels.training_rule,
        pattern_levels.pattern_id,
        pattern_levels.pair_count,
        pattern_levels.comparison_name,
        pattern_levels.level_name,
        1.0 / (1.0 + exp(sum(
            ln(params.u_probability) - ln(params.m_probability)
        ) over (partition by pattern_levels.pattern_id))) as match_posterior
    from {{ patterns }} as pattern_levels
    inner join {{ previous }} as params
        on
            pattern_levels.training_rule = params.training_rule
            and pattern_levels.comparison_name = params.comparison_name
            and pattern_levels.level_name = params.level_name

),

-- M step
mass_{{ k }} as {{ cdp.identity_fs_materialized() }} (

    select
        training_rule,
        comparison_name,
        level_name,
        sum(pair_count * match_posterior) as match_mass,
        sum(pair_count) as pair_mass
    from posterior_{{ k }}
    group by training_rule, comparison_name, level_name

),

updated_{{ k }} as {{ cdp.identity_fs_materialized() }} (

    select
        params.training_rule,
        params.comparison_name,
        params.level_name,
        params.level_order,
        params.fixed_m,
        params.start_m,
        params.base_u,
        mass_{{ k }}.match_mass,
        mass_{{ k }}.pair_mass,
        params.m_probability as previous_m,
        params.converged_at as previous_converged_at,
        sum(case
            when params.fixed_m is null
                then coalesce(mass_{{ k }}.match_mass, 0)
        end) over (
            partition by params.training_rule, params.comparison_name
        ) as trained_mass,
        coalesce(sum(params.fixed_m) over (
            partition by params.training_rule, params.comparison_name
        ), 0) as fixed_total
    from {{ previous }} as params
    left join mass_{{ k }}
        on
            params.training_rule = mass_{{ k }}.training_rule
            and params.comparison_name = mass_{{ k }}.comparison_name
            and params.level_name = mass_{{ k }}.level_name

),

moved_{{ k }} as {{ cdp.identity_fs_materialized() }} (

    select
        training_rule,
        comparison_name,
        level_name,
        level_order,
        fixed_m,
        start_m,
        base_u,
        previous_m,
        previous_converged_at,
        case
            when previous_converged_at is not null then previous_m
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
        training_rule,
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
                when max(abs(m_probability - previous_m)) over (
                    partition by training_rule
                ) < {{ training.tolerance }}
                    then {{ k }}
            end
        ) as converged_at,
        max(abs(m_probability - previous_m)) over (partition by training_rule)
            as iteration_change
    from moved_{{ k }}

)
{%- endmacro %}
