{#- Customers in the top two revenue quintiles whose recency fell into the
    bottom two: worth a retention offer before they are gone. -#}
with

measures as (

    select * from {{ ref('customer_measures') }}

),

customers as (

    select * from {{ ref('customers') }}

),

final as (

    select
        measures.customer_id,
        customers.email,
        customers.first_name,
        customers.country_code,
        measures.lifetime_revenue,
        measures.days_since_last_purchase,
        measures.rfm_group
    from measures
    inner join customers
        on measures.customer_id = customers.customer_id
    where measures.monetary_score >= 4 and measures.recency_score between 1 and 2

)

select * from final
