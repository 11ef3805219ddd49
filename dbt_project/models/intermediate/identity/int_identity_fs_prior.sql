{#- The prior of the Fellegi-Sunter model, lambda = P(two records picked at
    random are the same person), estimated deterministically rather than by
    EM over blocked pairs (inside blocks, non-matches do not look like random
    pairs, and EM's lambda there is no prior): the record pairs the strong
    rules put in one cluster (int_identity_clusters_strong: external ids,
    emails, phones) over all record pairs, divided by the share of true pairs
    the strong rules are assumed to find (training.prior.strong_rules_recall).
    The scoring's prior_match_weight is log2(lambda / (1 - lambda)) unless
    prior_match_weight is set by hand in _identity__probabilistic.yml. -#}
{%- set fs = cdp.identity_fs_config() %}
{%- set training = cdp.identity_fs_training(fs) %}
{%- set prior_weight = fs.prior_match_weight if fs.get('prior_match_weight') is not none
    else 'ln(prior_lambda / (1 - prior_lambda)) / ln(2.0)' %}
with

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

strong_clusters as (

    select * from {{ ref('int_identity_clusters_strong') }}

),

cluster_sizes as (

    select
        cluster_key,
        count(*) as cluster_records
    from strong_clusters
    group by cluster_key

),

strong_pairs as (

    select
        coalesce(
            sum(cluster_records * (cluster_records - 1) / 2.0), 0
        ) as strong_rule_pairs
    from cluster_sizes

),

record_totals as (

    select count(*) * (count(*) - 1) / 2.0 as record_pairs
    from records

),

estimated as (

    select
        strong_pairs.strong_rule_pairs,
        record_totals.record_pairs,
        coalesce(least(
            greatest(
                -- in double precision: Spark's decimal division keeps six
                -- decimals, which moved lambda's sixth (0.003636 for 0.003635)
                cast(strong_pairs.strong_rule_pairs as {{ cdp.type_double() }})
                / nullif(cast(record_totals.record_pairs as {{ cdp.type_double() }}), 0)
                / {{ training.strong_rules_recall }},
                {{ training.min_probability }} * 0.001
            ),
            0.5
        ), 0.5) as prior_lambda
    from strong_pairs
    cross join record_totals

),

weighed as (

    select
        *,
        {{ prior_weight }} as raw_prior_weight
    from estimated

),

final as (

    select
        cast(strong_rule_pairs as {{ dbt.type_bigint() }}) as strong_rule_pairs,
        cast(record_pairs as {{ dbt.type_bigint() }}) as record_pairs,
        cast({{ training.strong_rules_recall }} as {{ cdp.type_double() }})
            as strong_rules_recall,
        cast(
            round(cast(prior_lambda as {{ dbt.type_numeric() }}), 12)
            as {{ cdp.type_double() }}
        ) as prior_lambda,
        cast(
            round(cast(raw_prior_weight as {{ dbt.type_numeric() }}), 6)
            as {{ cdp.type_double() }}
        ) as prior_match_weight,
        {{ 'true' if fs.get('prior_match_weight') is not none else 'false' }}
            as is_prior_set_by_hand,
        cast({{ fs.threshold }} as {{ cdp.type_double() }}) as match_threshold
    from weighed

)

select * from final
