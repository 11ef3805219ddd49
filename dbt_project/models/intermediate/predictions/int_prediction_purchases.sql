{#- Every purchase and store return of a customer up to the end of the
    as-of day, with its net amount in the reporting currency: online orders
    (total minus refunds, a refund capped at its order; cancelled orders
    count 0 and are not purchases) and store receipts (returns negative).
    customer_measures' rules, one row per event, so that features and labels
    can be cut at any date. -#}
with

activities as (

    select * from {{ ref('customer_activities') }}
    where
        occurred_at < {{ dbt.dateadd('day', 1, cdp.cdp_as_of_date()) }}
        and activity_type in ('online_order', 'store_purchase', 'store_return')

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

online_orders as (

    select
        activities.customer_id,
        activities.activity_id,
        activities.occurred_at,
        orders.status != 'cancelled' as is_purchase,
        case
            when orders.status = 'cancelled' then 0
            else coalesce(orders.total_amount_reporting, 0) - least(
                coalesce(orders.refunded_amount_reporting, 0),
                coalesce(orders.total_amount_reporting, 0)
            )
        end as net_amount
    from activities
    inner join orders
        on activities.activity_id = cast(orders.order_id as {{ dbt.type_string() }})
    where activities.activity_type = 'online_order'

),

store_receipts as (

    select
        customer_id,
        activity_id,
        occurred_at,
        activity_type = 'store_purchase' as is_purchase,
        coalesce(amount_reporting, 0) as net_amount
    from activities
    where activity_type in ('store_purchase', 'store_return')

),

unioned as (

    select
        customer_id,
        'online' as channel,
        activity_id,
        occurred_at,
        is_purchase,
        net_amount
    from online_orders
    union all
    select
        customer_id,
        'store' as channel,
        activity_id,
        occurred_at,
        is_purchase,
        net_amount
    from store_receipts

),

final as (

    select
        customer_id,
        cast(channel as {{ dbt.type_string() }}) as channel,
        activity_id,
        occurred_at,
        is_purchase,
        cast(net_amount as decimal(14, 2)) as net_amount
    from unioned

)

select * from final
