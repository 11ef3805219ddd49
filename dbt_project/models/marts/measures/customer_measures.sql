{#- One row per customer with purchase, engagement and RFM measures as of
    cdp.cdp_as_of_date() (var cdp__as_of_date). Activities after the
    end of the as-of day are ignored, so a rebuild with the same date gives
    the same numbers. Customers without any activity get zero counts. -#}
with

customers as (

    select customer_id from {{ ref('customers') }}

),

source_records as (

    select * from {{ ref('customer_source_records') }}

),

activities as (

    select * from {{ ref('customer_activities') }}
    where
        occurred_at < {{ dbt.dateadd('day', 1, cdp.cdp_as_of_date()) }}

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}

),

web_events as (

    select * from {{ ref('stg_web__events') }}

),

loyalty_members as (

    select * from {{ ref('stg_pos__loyalty_members') }}

),

tickets as (

    select * from {{ ref('stg_support__tickets') }}

),

rfm_groups as (

    select * from {{ ref('rfm_groups') }}

),

online_orders as (

    select
        activities.customer_id,
        activities.activity_id as order_id,
        activities.occurred_at,
        orders.status,
        coalesce(orders.total_amount_reporting, 0) as total_amount,
        -- a refund larger than the order is capped at the order's total
        least(
            coalesce(orders.refunded_amount_reporting, 0),
            coalesce(orders.total_amount_reporting, 0)
        ) as refunded_amount
    from activities
    inner join orders
        on activities.activity_id = cast(orders.order_id as {{ dbt.type_string() }})
    where activities.activity_type = 'online_order'

),

purchases as (

    select
        customer_id,
        'online' as channel,
        occurred_at,
        total_amount - refunded_amount as net_amount,
        status != 'cancelled' as is_purchase
    from online_orders
    union all
    select
        customer_id,
        'store' as channel,
        occurred_at,
        coalesce(amount_reporting, 0) as net_amount,
        activity_type = 'store_purchase' as is_purchase
    from activities
    where activity_type in ('store_purchase', 'store_return')

),

purchase_measures as (

    select
        customer_id,
        sum(net_amount) as net_revenue,
        sum(case when is_purchase and channel = 'online' then 1 else 0 end) as order_count,
        sum(case when is_purchase and channel = 'store' then 1 else 0 end)
            as store_purchase_count,
        min(case when is_purchase then occurred_at end) as first_purchase_at,
        max(case when is_purchase then occurred_at end) as last_purchase_at
    from purchases
    group by customer_id

),

category_counts as (

    select
        online_orders.customer_id,
        order_lines.category,
        sum(coalesce(order_lines.quantity, 0)) as quantity,
        max(online_orders.occurred_at) as last_bought_at
    from online_orders
    inner join order_lines
        on online_orders.order_id = cast(order_lines.order_id as {{ dbt.type_string() }})
    where online_orders.status != 'cancelled' and order_lines.category is not null
    group by online_orders.customer_id, order_lines.category

),

preferred_category as (

    select
        customer_id,
        category,
        row_number() over (
            partition by customer_id
            order by quantity desc, last_bought_at desc, category asc
        ) as category_rank
    from category_counts

),

email_events as (

    select
        customer_id,
        activity_type,
        occurred_at >= {{ dbt.dateadd('day', -29, cdp.cdp_as_of_date()) }} as is_last_30d,
        occurred_at >= {{ dbt.dateadd('day', -89, cdp.cdp_as_of_date()) }} as is_last_90d
    from activities
    where activity_type like 'email_%'

),

email_measures as (

    select
        customer_id,
        sum(case when activity_type = 'email_open' and is_last_30d then 1 else 0 end)
            as email_opens_30d,
        sum(case when activity_type = 'email_open' and is_last_90d then 1 else 0 end)
            as email_opens_90d,
        sum(case when activity_type = 'email_click' and is_last_30d then 1 else 0 end)
            as email_clicks_30d,
        sum(case when activity_type = 'email_click' and is_last_90d then 1 else 0 end)
            as email_clicks_90d,
        max(case when activity_type = 'email_unsubscribe' then 1 else 0 end)
            as has_unsubscribed
    from email_events
    group by customer_id

),

web_measures as (

    select
        activities.customer_id,
        count(distinct web_events.session_id) as web_sessions_30d,
        sum(case when web_events.event_name = 'Product Viewed' then 1 else 0 end)
            as product_views_30d
    from activities
    inner join web_events
        on activities.activity_id = cast(web_events.web_event_id as {{ dbt.type_string() }})
    where
        activities.activity_type like 'web_%'
        and activities.occurred_at
        >= {{ dbt.dateadd('day', -29, cdp.cdp_as_of_date()) }}
    group by activities.customer_id

),

loyalty as (

    select
        source_records.customer_id,
        loyalty_members.tier,
        row_number() over (
            partition by source_records.customer_id
            order by loyalty_members.updated_at desc, loyalty_members.loyalty_number asc
        ) as member_rank
    from source_records
    inner join loyalty_members
        on source_records.source_record_id = loyalty_members.loyalty_number
    where source_records.source_name = 'loyalty_members'

),

ticket_measures as (

    select
        source_records.customer_id,
        count(*) as open_support_tickets
    from source_records
    inner join tickets
        on source_records.source_record_id = cast(tickets.ticket_id as {{ dbt.type_string() }})
    where
        source_records.source_name = 'support_tickets'
        and tickets.solved_at is null
        and tickets.created_at < {{ dbt.dateadd('day', 1, cdp.cdp_as_of_date()) }}
    group by source_records.customer_id

),

joined as (

    select
        customers.customer_id,
        -- returns larger than purchases never make revenue negative
        greatest(coalesce(purchase_measures.net_revenue, 0), 0) as lifetime_revenue,
        coalesce(purchase_measures.order_count, 0) as order_count,
        coalesce(purchase_measures.store_purchase_count, 0) as store_purchase_count,
        coalesce(purchase_measures.order_count, 0)
        + coalesce(purchase_measures.store_purchase_count, 0) as purchase_count,
        cast(purchase_measures.first_purchase_at as date) as first_purchase_date,
        cast(purchase_measures.last_purchase_at as date) as last_purchase_date,
        preferred_category.category as preferred_category,
        coalesce(email_measures.email_opens_30d, 0) as email_opens_30d,
        coalesce(email_measures.email_opens_90d, 0) as email_opens_90d,
        coalesce(email_measures.email_clicks_30d, 0) as email_clicks_30d,
        coalesce(email_measures.email_clicks_90d, 0) as email_clicks_90d,
        coalesce(email_measures.has_unsubscribed, 0) = 1 as is_email_unsubscribed,
        coalesce(web_measures.web_sessions_30d, 0) as web_sessions_30d,
        coalesce(web_measures.product_views_30d, 0) as product_views_30d,
        loyalty.tier as loyalty_tier,
        coalesce(ticket_measures.open_support_tickets, 0) as open_support_tickets
    from customers
    left join purchase_measures
        on customers.customer_id = purchase_measures.customer_id
    left join preferred_category
        on
            customers.customer_id = preferred_category.customer_id
            and preferred_category.category_rank = 1
    left join email_measures
        on customers.customer_id = email_measures.customer_id
    left join web_measures
        on customers.customer_id = web_measures.customer_id
    left join loyalty
        on customers.customer_id = loyalty.customer_id and loyalty.member_rank = 1
    left join ticket_measures
        on customers.customer_id = ticket_measures.customer_id

),

derived as (

    select
        *,
        case
            when purchase_count > 0 then {{ dbt.datediff(
                'last_purchase_date', cdp.cdp_as_of_date(), 'day'
            ) }}
        end as days_since_last_purchase,
        case
            when purchase_count > 0
                then round(lifetime_revenue / purchase_count, 2)
            else 0
        end as average_order_value,
        -- purchases per 30 days since the first purchase (at least one day)
        case
            when purchase_count > 0
                then round(purchase_count * 30.0 / (
                    {{ dbt.datediff(
                        'first_purchase_date', cdp.cdp_as_of_date(), 'day'
                    ) }} + 1
                ), 4)
            else 0
        end as purchase_frequency_30d,
        case
            when store_purchase_count > order_count then 'store'
            when order_count > 0 then 'online'
        end as preferred_channel
    from joined

),

rfm_scores as (

    select
        customer_id,
        ntile(5) over (order by last_purchase_date, customer_id) as recency_score,
        ntile(5) over (order by purchase_count, customer_id) as frequency_score,
        ntile(5) over (order by lifetime_revenue, customer_id) as monetary_score
    from derived
    where purchase_count > 0

),

rfm_matches as (

    select
        rfm_scores.customer_id,
        rfm_groups.rfm_group,
        row_number() over (
            partition by rfm_scores.customer_id order by rfm_groups.priority
        ) as match_rank
    from rfm_scores
    inner join rfm_groups
        on
            rfm_scores.recency_score between rfm_groups.recency_min and rfm_groups.recency_max
            and rfm_scores.frequency_score
            between rfm_groups.frequency_min and rfm_groups.frequency_max
            and rfm_scores.monetary_score
            between rfm_groups.monetary_min and rfm_groups.monetary_max

),

final as (

    select
        derived.customer_id,
        {{ cdp.cdp_as_of_date() }} as as_of_date,
        cast(derived.lifetime_revenue as decimal(14, 2)) as lifetime_revenue,
        cast(derived.order_count as bigint) as order_count,
        cast(derived.store_purchase_count as bigint) as store_purchase_count,
        cast(derived.purchase_count as bigint) as purchase_count,
        cast(derived.average_order_value as decimal(14, 2)) as average_order_value,
        derived.first_purchase_date,
        derived.last_purchase_date,
        cast(derived.days_since_last_purchase as integer) as days_since_last_purchase,
        cast(derived.purchase_frequency_30d as {{ cdp.type_double() }}) as purchase_frequency_30d,
        cast(coalesce(rfm_scores.recency_score, 0) as integer) as recency_score,
        cast(coalesce(rfm_scores.frequency_score, 0) as integer) as frequency_score,
        cast(coalesce(rfm_scores.monetary_score, 0) as integer) as monetary_score,
        cast(case
            when rfm_scores.customer_id is null then 'no_purchase'
            else coalesce(rfm_matches.rfm_group, 'other')
        end as {{ dbt.type_string() }}) as rfm_group,
        cast(derived.email_opens_30d as bigint) as email_opens_30d,
        cast(derived.email_opens_90d as bigint) as email_opens_90d,
        cast(derived.email_clicks_30d as bigint) as email_clicks_30d,
        cast(derived.email_clicks_90d as bigint) as email_clicks_90d,
        derived.is_email_unsubscribed,
        cast(derived.web_sessions_30d as bigint) as web_sessions_30d,
        cast(derived.product_views_30d as bigint) as product_views_30d,
        cast(derived.preferred_channel as {{ dbt.type_string() }}) as preferred_channel,
        cast(derived.preferred_category as {{ dbt.type_string() }}) as preferred_category,
        cast(derived.loyalty_tier as {{ dbt.type_string() }}) as loyalty_tier,
        cast(derived.open_support_tickets as bigint) as open_support_tickets
    from derived
    left join rfm_scores
        on derived.customer_id = rfm_scores.customer_id
    left join rfm_matches
        on derived.customer_id = rfm_matches.customer_id and rfm_matches.match_rank = 1

)

select * from final
