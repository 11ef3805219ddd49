{#- Repeat buyers (two purchases or more) silent for more than a year who
    did not unsubscribe from email. -#}
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
        measures.purchase_count,
        measures.last_purchase_date,
        measures.preferred_category
    from measures
    inner join customers
        on measures.customer_id = customers.customer_id
    where
        measures.purchase_count >= 2
        and measures.days_since_last_purchase > 365
        and not measures.is_email_unsubscribed

)

select * from final
