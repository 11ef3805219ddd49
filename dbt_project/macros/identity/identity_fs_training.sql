{#- Training of the Fellegi-Sunter parameters (issue #19): the `training`
    entry of the identity_probabilistic meta with its documented defaults,
    and the configured levels as a literal select. Without training
    blocking rules EM runs once over the scoring's blocking rules (each its
    own run). The var cdp__identity_u_sample_records (default unset)
    overrides u_sampling.sample_records for one run. -#}
{% macro identity_fs_training(config) -%}
    {%- set training = config.get('training', {}) or {} -%}
    {%- set sampling = training.get('u_sampling', {}) or {} -%}
    {%- set em = training.get('em', {}) or {} -%}
    {%- set prior = training.get('prior', {}) or {} -%}
    {{ return({
        'blocking': training.get('blocking') or config.get('blocking', []),
        'strong_rules_recall': prior.get('strong_rules_recall', 1.0),
        'seed': sampling.get('seed', 1),
        'sample_records': var('cdp__identity_u_sample_records', sampling.get('sample_records', 1000)) | int,
        'max_iterations': em.get('max_iterations', 30),
        'tolerance': em.get('tolerance', 0.0001),
        'start_lambda': em.get('start_lambda', 0.5),
        'min_probability': em.get('min_probability', 0.000001),
    }) }}
{%- endmacro %}

{#- The comparisons a training blocking rule leaves out of its EM run: the
    attributes of its keys and those it lists in `leave_out`. -#}
{% macro identity_fs_left_out(rule) -%}
    {%- set left_out = rule['keys'] | map(attribute='attribute') | list -%}
    {{ return(left_out + (rule.get('leave_out') or [])) }}
{%- endmacro %}

{#- The m a level starts EM from: its `m_start`, else 0.7 for the first
    level and the remaining 0.3 split evenly over the others. -#}
{% macro identity_fs_start_m(comparison, level_index) -%}
    {%- set level = comparison.levels[level_index - 1] -%}
    {%- if level.get('m_start') is not none -%}
        {{ return(level.m_start) }}
    {%- elif comparison.levels | length == 1 -%}
        {{ return(1.0) }}
    {%- elif level_index == 1 -%}
        {{ return(0.7) }}
    {%- else -%}
        {{ return(0.3 / (comparison.levels | length - 1)) }}
    {%- endif -%}
{%- endmacro %}

{#- Every configured level as rows: comparison_name, level_name,
    level_order, the hand-set m and u (null when trained) and the m EM starts
    from. -#}
{% macro identity_fs_configured_levels(config) -%}
    {%- for comparison in config.comparisons %}
    {%- set outer = loop %}
    {%- for level in comparison.levels %}
    {%- if not (outer.first and loop.first) %}
    union all
    {%- endif %}
    select
        cast('{{ comparison.attribute }}' as {{ dbt.type_string() }}) as comparison_name,
        cast('{{ level.name }}' as {{ dbt.type_string() }}) as level_name,
        {{ loop.index }} as level_order,
        cast({{ level.m if level.get('m') is not none else 'null' }} as {{ cdp.type_double() }}) as fixed_m,
        cast({{ level.u if level.get('u') is not none else 'null' }} as {{ cdp.type_double() }}) as fixed_u,
        cast({{ cdp.identity_fs_start_m(comparison, loop.index) }} as {{ cdp.type_double() }}) as start_m
    {%- endfor %}
    {%- endfor %}
{%- endmacro %}

{#- `materialized` for the CTEs of each EM iteration where the engine has
    the keyword: without it DuckDB's planner takes exponentially long on the
    unrolled iterations. -#}
{% macro identity_fs_materialized() -%}
    {{ return(adapter.dispatch('identity_fs_materialized', 'cdp')()) }}
{%- endmacro %}

{% macro default__identity_fs_materialized() -%}
    materialized
{%- endmacro %}

{% macro spark__identity_fs_materialized() -%}
{%- endmacro %}

{#- The comparisons whose exact levels are term-frequency adjusted. -#}
{% macro identity_fs_tf_comparisons(config) -%}
    {{ return(config.comparisons | selectattr('term_frequency_adjustments', 'defined')
        | selectattr('term_frequency_adjustments') | list) }}
{%- endmacro %}

{#- A comparison's value, normalised as the comparison normalises it. -#}
{% macro identity_fs_normalized(comparison, expression) -%}
    {%- if comparison.get('normalizers') -%}
        {{ cdp.identity_normalize(expression, comparison.normalizers) }}
    {%- else -%}
        {{ expression }}
    {%- endif -%}
{%- endmacro %}
