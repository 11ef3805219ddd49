{#- One timeline per customer across systems: online orders, store
    purchases (receipts with a loyalty card), web and app events, email
    engagement and support tickets. Web events join through their anonymous
    id, so everything a device did before its first identify belongs to the
    person too (retroactive stitching). Activities whose record belongs to
    no customer (anonymous store receipts) are left out. -#}
with

source_records as (

    select * from {{ ref('customer_source_records') }}

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

store_transactions as (

    select * from {{ ref('stg_pos__store_transactions') }}

),

web_events as (

    select * from {{ ref('stg_web__events') }}

),

email_events as (

    select * from {{ ref('stg_email__events') }}

),

tickets as (

    select * from {{ ref('stg_support__tickets') }}

),

activities as (

    select
        'online_order' as activity_type,
        cast(order_id as {{ dbt.type_string() }}) as activity_id,
        ordered_at as occurred_at,
        'shop_orders' as source_name,
        cast(order_id as {{ dbt.type_string() }}) as source_record_id,
        status as activity_detail,
        total_amount_reporting as amount_reporting
    from orders
    union all
    select
        case when is_return then 'store_return' else 'store_purchase' end as activity_type,
        cast(store_transaction_id as {{ dbt.type_string() }}) as activity_id,
        transacted_at as occurred_at,
        'loyalty_members' as source_name,
        loyalty_number as source_record_id,
        cast(store_id as {{ dbt.type_string() }}) as activity_detail,
        total_amount_reporting as amount_reporting
    from store_transactions
    where loyalty_number is not null
    union all
    select
        'web_' || event_type as activity_type,
        cast(web_event_id as {{ dbt.type_string() }}) as activity_id,
        occurred_at,
        'web_events' as source_name,
        anonymous_id as source_record_id,
        coalesce(event_name, page_url) as activity_detail,
        cast(null as decimal(14, 2)) as amount_reporting
    from web_events
    where anonymous_id is not null
    union all
    select
        'email_' || event_type as activity_type,
        cast(email_event_id as {{ dbt.type_string() }}) as activity_id,
        occurred_at,
        'email_subscribers' as source_name,
        cast(subscriber_id as {{ dbt.type_string() }}) as source_record_id,
        campaign_id as activity_detail,
        cast(null as decimal(14, 2)) as amount_reporting
    from email_events
    union all
    select
        'support_ticket' as activity_type,
        cast(ticket_id as {{ dbt.type_string() }}) as activity_id,
        created_at as occurred_at,
        'support_tickets' as source_name,
        cast(ticket_id as {{ dbt.type_string() }}) as source_record_id,
        subject as activity_detail,
        cast(null as decimal(14, 2)) as amount_reporting
    from tickets

),

final as (

    select
        source_records.customer_id,
        cast(activities.activity_type as {{ dbt.type_string() }}) as activity_type,
        activities.activity_id,
        cast(activities.occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(activities.source_name as {{ dbt.type_string() }}) as source_name,
        activities.source_record_id,
        cast(activities.activity_detail as {{ dbt.type_string() }}) as activity_detail,
        cast(activities.amount_reporting as decimal(14, 2)) as amount_reporting
    from activities
    inner join source_records
        on
            activities.source_name = source_records.source_name
            and activities.source_record_id = source_records.source_record_id

)

select * from final
