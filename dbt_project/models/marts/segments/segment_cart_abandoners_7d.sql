{#- Customers who added a product to the cart or started a checkout in the
    7 days ending on the as-of date and placed no order since. -#}
with

activities as (

    select * from {{ ref('customer_activities') }}
    where
        occurred_at < {{ dbt.dateadd('day', 1, cdp.cdp_as_of_date()) }}
        and occurred_at >= {{ dbt.dateadd('day', -6, cdp.cdp_as_of_date()) }}

),

customers as (

    select * from {{ ref('customers') }}

),

measures as (

    select * from {{ ref('customer_measures') }}

),

cart_events as (

    select
        customer_id,
        max(occurred_at) as last_cart_at
    from activities
    where
        activity_type = 'web_track'
        and activity_detail in ('Product Added', 'Checkout Started')
    group by customer_id

),

purchases as (

    select
        customer_id,
        max(occurred_at) as last_purchase_at
    from activities
    where activity_type in ('online_order', 'store_purchase')
    group by customer_id

),

final as (

    select
        cart_events.customer_id,
        customers.email,
        customers.first_name,
        cart_events.last_cart_at,
        measures.preferred_category
    from cart_events
    inner join customers
        on cart_events.customer_id = customers.customer_id
    inner join measures
        on cart_events.customer_id = measures.customer_id
    left join purchases
        on cart_events.customer_id = purchases.customer_id
    where
        purchases.last_purchase_at is null
        or purchases.last_purchase_at < cart_events.last_cart_at

)

select * from final
