{#- Buyers whose last purchase is between 180 and 365 days before the as-of
    date. -#}
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
        measures.last_purchase_date,
        measures.days_since_last_purchase,
        measures.preferred_category
    from measures
    inner join customers
        on measures.customer_id = customers.customer_id
    where measures.days_since_last_purchase between 180 and 365

)

select * from final
