{#- One row per customer with every predictive score beside the measures
    they are read with: churn probability and 12-month CLV (source
    predictions, written by the scoring step), the SQL purchase propensity
    and the first recommended product. -#}
with

measures as (

    select * from {{ ref('customer_measures') }}

),

scores as (

    select * from {{ ref('stg_predictions__customer_scores') }}

),

propensity as (

    select * from {{ ref('customer_purchase_propensity') }}

),

recommendations as (

    select * from {{ ref('customer_product_recommendations') }}
    where recommendation_rank = 1

),

final as (

    select
        measures.customer_id,
        measures.as_of_date,
        measures.lifetime_revenue,
        measures.purchase_count,
        measures.days_since_last_purchase,
        measures.rfm_group,
        scores.churn_probability_90d,
        scores.predicted_clv_365d,
        propensity.purchase_probability_90d,
        recommendations.product_id as next_product_id,
        recommendations.product_name as next_product_name
    from measures
    left join scores
        on measures.customer_id = scores.customer_id
    left join propensity
        on measures.customer_id = propensity.customer_id
    left join recommendations
        on measures.customer_id = recommendations.customer_id

)

select * from final
