{#- The purchase-propensity model: the smoothed share of customers who
    bought in the next H days per cell of (recency, frequency, engagement)
    buckets, learned on the training customers (about 80%, by a hash of the
    customer id) with features as of H days before the as-of date and the
    H days up to the as-of date as the label. H is the var
    cdp__purchase_propensity_horizon_days (default 90), the smoothing weight
    cdp__purchase_propensity_prior_weight (default 10 customers). -#}
{%- set horizon_days = var('cdp__purchase_propensity_horizon_days') %}
{%- set prior_weight = var('cdp__purchase_propensity_prior_weight') %}

with

training_rows as (

    {{ cdp.predictions_purchase_features(
        ref('customer_activities'),
        ref('customer_measures'),
        dbt.dateadd('day', -horizon_days, cdp.cdp_as_of_date()),
        horizon_days
    ) }}

),

training as (

    select * from training_rows
    where substr({{ dbt.hash('customer_id') }}, 1, 1) not in ('0', '1', '2')

),

base_rate as (

    select avg(cast(purchased_in_horizon as {{ cdp.type_double() }})) as base_rate
    from training

),

cells as (

    select
        recency_bucket,
        frequency_bucket,
        engagement_bucket,
        count(*) as training_customers,
        sum(purchased_in_horizon) as training_buyers
    from training
    group by recency_bucket, frequency_bucket, engagement_bucket

),

final as (

    select
        cast(cells.recency_bucket as {{ dbt.type_string() }}) as recency_bucket,
        cast(cells.frequency_bucket as {{ dbt.type_string() }}) as frequency_bucket,
        cast(cells.engagement_bucket as {{ dbt.type_string() }}) as engagement_bucket,
        cast(cells.training_customers as bigint) as training_customers,
        cast(cells.training_buyers as bigint) as training_buyers,
        cast(
            (cells.training_buyers + {{ prior_weight }} * base_rate.base_rate)
            / (cells.training_customers + {{ prior_weight }})
            as {{ cdp.type_double() }}
        ) as purchase_probability,
        cast(base_rate.base_rate as {{ cdp.type_double() }}) as base_rate
    from cells
    cross join base_rate

)

select * from final
