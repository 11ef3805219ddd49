{#- Fellegi-Sunter scores of the blocked record pairs
    (int_identity_fs_pair_levels): per comparison of _identity__probabilistic.yml
    the pair's level and its partial weight log2(m / u) with the trained
    parameters (int_identity_fs_parameters; a null level weighs 0); the match
    weight is the prior (int_identity_fs_prior: estimated, or set by hand)
    plus their sum. A comparison with term_frequency_adjustments weighs an
    exact match on value v with u = frequency(v)
    (int_identity_fs_term_frequencies), floored at term_frequency_floor,
    instead of the level's average u. Pairs at or above the threshold are
    matches (is_match); a match is an edge (is_edge) unless the strong
    clusters of its records conflict on a guard of conflict_guard
    (int_identity_fs_pair_conflicts; conflicting_guards names them). Weights
    are rounded to 4 decimals and stored as floats, so every engine stores
    the same numbers. -#}
-- Jinja loops over the configured comparisons and EM iterations: sqlfluff's
-- indentation rule cannot follow them.
-- noqa: disable=LT02,LT05
{%- set fs = cdp.identity_fs_config() %}
{%- set tf_comparisons = cdp.identity_fs_tf_comparisons(fs) %}
{%- set tf_floor = fs.get('term_frequency_floor', 0.0001) %}
with

pair_levels as (

    select * from {{ ref('int_identity_fs_pair_levels') }}

),

parameters as (

    select * from {{ ref('int_identity_fs_parameters') }}

),

fs_prior as (

    select * from {{ ref('int_identity_fs_prior') }}

),

term_frequencies as (

    select * from {{ ref('int_identity_fs_term_frequencies') }}

),

pair_conflicts as (

    select * from {{ ref('int_identity_fs_pair_conflicts') }}

),

conflicts as (

    select
        left_record_key,
        right_record_key,
        {{ cdp.identity_sorted_string_agg('guard_name', "', '") }} as conflicting_guards
    from pair_conflicts
    group by left_record_key, right_record_key

),

weights as (

    select
        pair_levels.*,
        {%- for comparison in fs.comparisons %}
        {%- set p = 'parameters_' ~ comparison.attribute %}
        {%- set u = p ~ '.u_probability' %}
        {%- if comparison in tf_comparisons %}
        {#- greatest() skips nulls on some engines: test the frequency first #}
        {%- set tf = 'tf_' ~ comparison.attribute ~ '.value_frequency' %}
        {%- set u = '(case when ' ~ tf ~ ' is null then ' ~ u ~ ' else greatest('
            ~ tf ~ ', ' ~ tf_floor ~ ') end)' %}
        {%- endif %}
        case
            when pair_levels.{{ comparison.attribute }}_level = 'null' then 0.0
            else ln({{ p }}.m_probability / {{ u }}) / ln(2.0)
        end as {{ comparison.attribute }}_raw_weight,
        {%- endfor %}
        1 as is_weighted
    from pair_levels
    {%- for comparison in fs.comparisons %}
    {%- set p = 'parameters_' ~ comparison.attribute %}
    left join parameters as {{ p }}
        on
            {{ p }}.comparison_name = '{{ comparison.attribute }}'
            and pair_levels.{{ comparison.attribute }}_level = {{ p }}.level_name
    {%- endfor %}
    {%- for comparison in tf_comparisons %}
    left join term_frequencies as tf_{{ comparison.attribute }}
        on
            tf_{{ comparison.attribute }}.comparison_name = '{{ comparison.attribute }}'
            and pair_levels.{{ comparison.attribute }}_tf_value
            = tf_{{ comparison.attribute }}.attribute_value
    {%- endfor %}

),

summed as (

    select
        weights.*,
        conflicts.conflicting_guards,
        fs_prior.prior_match_weight
        {%- for comparison in fs.comparisons %}
            + weights.{{ comparison.attribute }}_raw_weight
        {%- endfor %}
            as raw_match_weight
    from weights
    cross join fs_prior
    left join conflicts
        on
            weights.left_record_key = conflicts.left_record_key
            and weights.right_record_key = conflicts.right_record_key

),

final as (

    select
        left_record_key,
        right_record_key,
        blocking_rule,
        {%- for comparison in fs.comparisons %}
        {{ comparison.attribute }}_level,  -- noqa: LT02
        cast(round(cast({{ comparison.attribute }}_raw_weight as {{ dbt.type_numeric() }}), 4) as {{ cdp.type_double() }}) as {{ comparison.attribute }}_weight,  -- noqa: LT02, LT05
        {%- endfor %}
        cast(round(cast(raw_match_weight as {{ dbt.type_numeric() }}), 4) as {{ cdp.type_double() }}) as match_weight,
        cast(round(cast(
            power(2.0, raw_match_weight) / (1 + power(2.0, raw_match_weight))
            as {{ dbt.type_numeric() }}), 6
        ) as {{ cdp.type_double() }}) as match_probability,
        raw_match_weight >= {{ fs.threshold }} as is_match,
        conflicting_guards,
        raw_match_weight >= {{ fs.threshold }}
        and conflicting_guards is null as is_edge
    from summed

)

select * from final
