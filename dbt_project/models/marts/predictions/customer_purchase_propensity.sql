{#- Per customer, the probability of a purchase in the
    cdp__purchase_propensity_horizon_days (default 90) days after the as-of
    date: the customer's buckets as of that date looked up in
    customer_purchase_propensity_cells (the training base rate for a cell
    never seen in training). -#}
with

cells as (

    select * from {{ ref('customer_purchase_propensity_cells') }}

),

features as (

    {{ cdp.predictions_purchase_features(
        ref('customer_activities'),
        ref('customer_measures'),
        cdp.cdp_as_of_date(),
        var('cdp__purchase_propensity_horizon_days')
    ) }}

),

base_rate as (

    select max(base_rate) as base_rate from cells

),

final as (

    select
        features.customer_id,
        {{ cdp.cdp_as_of_date() }} as as_of_date,
        cast(features.recency_bucket as {{ dbt.type_string() }}) as recency_bucket,
        cast(features.frequency_bucket as {{ dbt.type_string() }}) as frequency_bucket,
        cast(features.engagement_bucket as {{ dbt.type_string() }}) as engagement_bucket,
        cast(
            coalesce(cells.purchase_probability, base_rate.base_rate) as {{ cdp.type_double() }}
        ) as purchase_probability_90d
    from features
    cross join base_rate
    left join cells
        on
            features.recency_bucket = cells.recency_bucket
            and features.frequency_bucket = cells.frequency_bucket
            and features.engagement_bucket = cells.engagement_bucket

)

select * from final
