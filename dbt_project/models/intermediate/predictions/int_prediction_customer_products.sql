{#- One row per customer and product bought up to the end of the as-of day,
    online (orders not cancelled) or in store (receipts, returns left out),
    with the first time the customer bought it: the history the
    next-product recommendations learn from. -#}
with

activities as (

    select * from {{ ref('customer_activities') }}
    where
        occurred_at < {{ dbt.dateadd('day', 1, cdp.cdp_as_of_date()) }}
        and activity_type in ('online_order', 'store_purchase')

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}

),

store_lines as (

    select * from {{ ref('stg_pos__store_transaction_lines') }}

),

online_lines as (

    select
        activities.customer_id,
        order_lines.product_id,
        order_lines.category,
        activities.occurred_at
    from activities
    inner join orders
        on activities.activity_id = cast(orders.order_id as {{ dbt.type_string() }})
    inner join order_lines
        on orders.order_id = order_lines.order_id
    where
        activities.activity_type = 'online_order'
        and orders.status != 'cancelled'

),

store_purchase_lines as (

    select
        activities.customer_id,
        store_lines.product_id,
        store_lines.category,
        activities.occurred_at
    from activities
    inner join store_lines
        on activities.activity_id = store_lines.store_transaction_id
    where activities.activity_type = 'store_purchase'

),

unioned as (

    select * from online_lines
    union all
    select * from store_purchase_lines

),

final as (

    select
        customer_id,
        product_id,
        max(category) as category,
        min(occurred_at) as first_bought_at,
        count(*) as times_bought
    from unioned
    where product_id is not null
    group by customer_id, product_id

)

select * from final
