{#- One row per cutoff date of int_prediction_windows and customer known by
    then (any activity up to the end of the cutoff day; at the as-of date
    itself every customer): purchase, revenue and engagement features as of
    the end of the cutoff day, and the labels of the windows after it,
    null when the window reaches past the as-of date. Revenue is net, in
    the reporting currency. The features see only activities dated up to
    the cutoff, but amounts and statuses are each record's latest version
    (a refund recorded after the cutoff already lowers the revenue of an
    order placed before it). -#}
with

windows as (

    select * from {{ ref('int_prediction_windows') }}

),

customers as (

    select customer_id from {{ ref('customers') }}

),

purchases as (

    select * from {{ ref('int_prediction_purchases') }}

),

activities as (

    select
        customer_id,
        activity_type,
        occurred_at
    from {{ ref('customer_activities') }}
    where occurred_at < {{ dbt.dateadd('day', 1, cdp.cdp_as_of_date()) }}

),

cutoffs as (

    select distinct
        cutoff_date,
        {{ dbt.dateadd('day', 1, 'cutoff_date') }} as cutoff_end_at,
        {{ dbt.dateadd('day', 90, 'cutoff_date') }}
        <= {{ cdp.cdp_as_of_date() }} as has_label_90d,
        {{ dbt.dateadd('day', 365, 'cutoff_date') }}
        <= {{ cdp.cdp_as_of_date() }} as has_label_365d,
        cutoff_date = {{ cdp.cdp_as_of_date() }} as is_as_of_date
    from windows

),

first_activity as (

    select
        customer_id,
        min(occurred_at) as first_activity_at
    from activities
    group by customer_id

),

purchase_history as (

    select
        cutoffs.cutoff_date,
        purchases.customer_id,
        sum(case
            when purchases.is_purchase and purchases.occurred_at < cutoffs.cutoff_end_at
                then 1
            else 0
        end) as purchases_total,
        sum(case
            when
                purchases.is_purchase
                and purchases.occurred_at < cutoffs.cutoff_end_at
                and purchases.occurred_at
                >= {{ dbt.dateadd('day', -30, 'cutoffs.cutoff_end_at') }}
                then 1
            else 0
        end) as purchases_30d,
        sum(case
            when
                purchases.is_purchase
                and purchases.occurred_at < cutoffs.cutoff_end_at
                and purchases.occurred_at
                >= {{ dbt.dateadd('day', -90, 'cutoffs.cutoff_end_at') }}
                then 1
            else 0
        end) as purchases_90d,
        sum(case
            when
                purchases.is_purchase
                and purchases.occurred_at < cutoffs.cutoff_end_at
                and purchases.occurred_at
                >= {{ dbt.dateadd('day', -365, 'cutoffs.cutoff_end_at') }}
                then 1
            else 0
        end) as purchases_365d,
        sum(case
            when
                purchases.is_purchase
                and purchases.channel = 'online'
                and purchases.occurred_at < cutoffs.cutoff_end_at
                then 1
            else 0
        end) as online_purchases_total,
        sum(case
            when purchases.occurred_at < cutoffs.cutoff_end_at
                then purchases.net_amount
            else 0
        end) as revenue_total,
        sum(case
            when
                purchases.occurred_at < cutoffs.cutoff_end_at
                and purchases.occurred_at
                >= {{ dbt.dateadd('day', -90, 'cutoffs.cutoff_end_at') }}
                then purchases.net_amount
            else 0
        end) as revenue_90d,
        sum(case
            when
                purchases.occurred_at < cutoffs.cutoff_end_at
                and purchases.occurred_at
                >= {{ dbt.dateadd('day', -365, 'cutoffs.cutoff_end_at') }}
                then purchases.net_amount
            else 0
        end) as revenue_365d,
        min(case
            when purchases.is_purchase and purchases.occurred_at < cutoffs.cutoff_end_at
                then purchases.occurred_at
        end) as first_purchase_at,
        max(case
            when purchases.is_purchase and purchases.occurred_at < cutoffs.cutoff_end_at
                then purchases.occurred_at
        end) as last_purchase_at,
        sum(case
            when
                purchases.is_purchase
                and purchases.occurred_at >= cutoffs.cutoff_end_at
                and purchases.occurred_at
                < {{ dbt.dateadd('day', 90, 'cutoffs.cutoff_end_at') }}
                then 1
            else 0
        end) as purchases_next_90d,
        sum(case
            when
                purchases.occurred_at >= cutoffs.cutoff_end_at
                and purchases.occurred_at
                < {{ dbt.dateadd('day', 365, 'cutoffs.cutoff_end_at') }}
                then purchases.net_amount
            else 0
        end) as revenue_next_365d
    from cutoffs
    cross join purchases
    group by cutoffs.cutoff_date, purchases.customer_id

),

engagement_history as (

    select
        cutoffs.cutoff_date,
        activities.customer_id,
        sum(case
            when
                activities.activity_type = 'email_open'
                and activities.occurred_at
                >= {{ dbt.dateadd('day', -90, 'cutoffs.cutoff_end_at') }}
                then 1
            else 0
        end) as email_opens_90d,
        sum(case
            when
                activities.activity_type = 'email_click'
                and activities.occurred_at
                >= {{ dbt.dateadd('day', -90, 'cutoffs.cutoff_end_at') }}
                then 1
            else 0
        end) as email_clicks_90d,
        max(case
            when activities.activity_type = 'email_unsubscribe' then 1 else 0
        end) as has_unsubscribed,
        sum(case
            when
                activities.activity_type like 'web_%'
                and activities.occurred_at
                >= {{ dbt.dateadd('day', -30, 'cutoffs.cutoff_end_at') }}
                then 1
            else 0
        end) as web_events_30d,
        sum(case
            when
                activities.activity_type like 'web_%'
                and activities.occurred_at
                >= {{ dbt.dateadd('day', -90, 'cutoffs.cutoff_end_at') }}
                then 1
            else 0
        end) as web_events_90d,
        sum(case
            when
                activities.activity_type = 'support_ticket'
                and activities.occurred_at
                >= {{ dbt.dateadd('day', -365, 'cutoffs.cutoff_end_at') }}
                then 1
            else 0
        end) as support_tickets_365d
    from cutoffs
    inner join activities
        on cutoffs.cutoff_end_at > activities.occurred_at
    group by cutoffs.cutoff_date, activities.customer_id

),

known_customers as (

    select
        cutoffs.cutoff_date,
        cutoffs.cutoff_end_at,
        cutoffs.has_label_90d,
        cutoffs.has_label_365d,
        customers.customer_id,
        first_activity.first_activity_at
    from cutoffs
    cross join customers
    left join first_activity
        on customers.customer_id = first_activity.customer_id
    where
        cutoffs.is_as_of_date
        or first_activity.first_activity_at < cutoffs.cutoff_end_at

),

joined as (

    select
        known_customers.cutoff_date,
        known_customers.customer_id,
        known_customers.has_label_90d,
        known_customers.has_label_365d,
        cast(known_customers.first_activity_at as date) as first_activity_date,
        cast(purchase_history.first_purchase_at as date) as first_purchase_date,
        cast(purchase_history.last_purchase_at as date) as last_purchase_date,
        coalesce(purchase_history.purchases_total, 0) as purchases_total,
        coalesce(purchase_history.purchases_30d, 0) as purchases_30d,
        coalesce(purchase_history.purchases_90d, 0) as purchases_90d,
        coalesce(purchase_history.purchases_365d, 0) as purchases_365d,
        coalesce(purchase_history.online_purchases_total, 0) as online_purchases_total,
        greatest(coalesce(purchase_history.revenue_total, 0), 0) as revenue_total,
        greatest(coalesce(purchase_history.revenue_90d, 0), 0) as revenue_90d,
        greatest(coalesce(purchase_history.revenue_365d, 0), 0) as revenue_365d,
        coalesce(engagement_history.email_opens_90d, 0) as email_opens_90d,
        coalesce(engagement_history.email_clicks_90d, 0) as email_clicks_90d,
        coalesce(engagement_history.has_unsubscribed, 0) = 1 as is_email_unsubscribed,
        coalesce(engagement_history.web_events_30d, 0) as web_events_30d,
        coalesce(engagement_history.web_events_90d, 0) as web_events_90d,
        coalesce(engagement_history.support_tickets_365d, 0) as support_tickets_365d,
        coalesce(purchase_history.purchases_next_90d, 0) as purchases_next_90d,
        greatest(coalesce(purchase_history.revenue_next_365d, 0), 0) as revenue_next_365d
    from known_customers
    left join purchase_history
        on
            known_customers.cutoff_date = purchase_history.cutoff_date
            and known_customers.customer_id = purchase_history.customer_id
    left join engagement_history
        on
            known_customers.cutoff_date = engagement_history.cutoff_date
            and known_customers.customer_id = engagement_history.customer_id

),

final as (

    select
        cutoff_date,
        customer_id,
        purchases_total > 0 as has_purchased,
        cast(case
            when first_activity_date is not null
                then {{ dbt.datediff('first_activity_date', 'cutoff_date', 'day') }}
        end as integer) as days_since_first_activity,
        cast(case
            when first_purchase_date is not null
                then {{ dbt.datediff('first_purchase_date', 'cutoff_date', 'day') }}
        end as integer) as days_since_first_purchase,
        cast(case
            when last_purchase_date is not null
                then {{ dbt.datediff('last_purchase_date', 'cutoff_date', 'day') }}
        end as integer) as days_since_last_purchase,
        cast(purchases_total as integer) as purchases_total,
        cast(purchases_30d as integer) as purchases_30d,
        cast(purchases_90d as integer) as purchases_90d,
        cast(purchases_365d as integer) as purchases_365d,
        cast(case
            when purchases_total > 0 then 1.0 * online_purchases_total / purchases_total
        end as decimal(9, 6)) as online_purchase_share,
        cast(revenue_total as decimal(14, 2)) as revenue_total,
        cast(revenue_90d as decimal(14, 2)) as revenue_90d,
        cast(revenue_365d as decimal(14, 2)) as revenue_365d,
        cast(case
            when purchases_total > 0 then revenue_total / purchases_total else 0
        end as decimal(14, 2)) as average_order_value,
        cast(email_opens_90d as integer) as email_opens_90d,
        cast(email_clicks_90d as integer) as email_clicks_90d,
        is_email_unsubscribed,
        cast(web_events_30d as integer) as web_events_30d,
        cast(web_events_90d as integer) as web_events_90d,
        cast(support_tickets_365d as integer) as support_tickets_365d,
        cast(case
            when has_label_90d then purchases_next_90d
        end as integer) as purchases_next_90d,
        cast(case
            when has_label_365d then revenue_next_365d
        end as decimal(14, 2)) as revenue_next_365d
    from joined

)

select * from final
