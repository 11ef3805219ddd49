{#- Every activity of the timeline keyed by the source record it hangs on,
    without the customer: online orders, store receipts, web events, email
    events and support tickets. Incremental on `_loaded_at`: a build adds
    the activities landed since the last one and replaces re-delivered ones by
    key, never rewriting history. customer_activities resolves the customer
    at read time, so identity changes (merges, splits) need no rebuild here.
    Receipts without a loyalty number and events without an anonymous id are
    kept (their source_record_id is null) so that a new version that loses its
    key replaces the old row; customer_activities drops them. -#}
{{ config(
    materialized=cdp.incremental_materialized(),
    unique_key=['source_name', 'activity_id'],
    incremental_strategy='delete+insert',
    pre_hook=[
        "{{ cdp.purge_erased_rows('activity_id', ref('stg_shop__orders'), 'cast(order_id as ' ~ dbt.type_string() ~ ')', \"source_name = 'shop_orders'\") }}",
        "{{ cdp.purge_erased_rows('activity_id', ref('stg_pos__store_transactions'), 'cast(store_transaction_id as ' ~ dbt.type_string() ~ ')', \"source_name = 'loyalty_members'\") }}",
        "{{ cdp.purge_erased_rows('activity_id', ref('stg_web__events'), 'cast(web_event_id as ' ~ dbt.type_string() ~ ')', \"source_name = 'web_events'\") }}",
        "{{ cdp.purge_erased_rows('activity_id', ref('stg_email__events'), 'cast(email_event_id as ' ~ dbt.type_string() ~ ')', \"source_name = 'email_subscribers'\") }}",
        "{{ cdp.purge_erased_rows('activity_id', ref('stg_support__tickets'), 'cast(ticket_id as ' ~ dbt.type_string() ~ ')', \"source_name = 'support_tickets'\") }}",
    ],
) }}

with

orders as (

    select * from {{ ref('stg_shop__orders') }}
    {%- if is_incremental() %}
        where {{ cdp.loaded_after_last_build() }}
    {%- endif %}

),

store_transactions as (

    select * from {{ ref('stg_pos__store_transactions') }}
    {%- if is_incremental() %}
        where {{ cdp.loaded_after_last_build() }}
    {%- endif %}

),

web_events as (

    select * from {{ ref('stg_web__events') }}
    {%- if is_incremental() %}
        where {{ cdp.loaded_after_last_build() }}
    {%- endif %}

),

email_events as (

    select * from {{ ref('stg_email__events') }}
    {%- if is_incremental() %}
        where {{ cdp.loaded_after_last_build() }}
    {%- endif %}

),

tickets as (

    select * from {{ ref('stg_support__tickets') }}
    {%- if is_incremental() %}
        where {{ cdp.loaded_after_last_build() }}
    {%- endif %}

),

activities as (

    select
        'online_order' as activity_type,
        cast(order_id as {{ dbt.type_string() }}) as activity_id,
        ordered_at as occurred_at,
        'shop_orders' as source_name,
        cast(order_id as {{ dbt.type_string() }}) as source_record_id,
        status as activity_detail,
        total_amount_reporting as amount_reporting,
        _loaded_at
    from orders
    union all
    select
        case
            when is_return then 'store_return' else 'store_purchase'
        end as activity_type,
        cast(store_transaction_id as {{ dbt.type_string() }}) as activity_id,
        transacted_at as occurred_at,
        'loyalty_members' as source_name,
        loyalty_number as source_record_id,
        cast(store_id as {{ dbt.type_string() }}) as activity_detail,
        total_amount_reporting as amount_reporting,
        _loaded_at
    from store_transactions
    union all
    select
        'web_' || event_type as activity_type,
        cast(web_event_id as {{ dbt.type_string() }}) as activity_id,
        occurred_at,
        'web_events' as source_name,
        anonymous_id as source_record_id,
        coalesce(event_name, page_url) as activity_detail,
        cast(null as decimal(14, 2)) as amount_reporting,
        _loaded_at
    from web_events
    union all
    select
        'email_' || event_type as activity_type,
        cast(email_event_id as {{ dbt.type_string() }}) as activity_id,
        occurred_at,
        'email_subscribers' as source_name,
        cast(subscriber_id as {{ dbt.type_string() }}) as source_record_id,
        campaign_id as activity_detail,
        cast(null as decimal(14, 2)) as amount_reporting,
        _loaded_at
    from email_events
    union all
    select
        'support_ticket' as activity_type,
        cast(ticket_id as {{ dbt.type_string() }}) as activity_id,
        created_at as occurred_at,
        'support_tickets' as source_name,
        cast(ticket_id as {{ dbt.type_string() }}) as source_record_id,
        subject as activity_detail,
        cast(null as decimal(14, 2)) as amount_reporting,
        _loaded_at
    from tickets

),

final as (

    select
        cast(source_name as {{ dbt.type_string() }}) as source_name,
        activity_id,
        source_record_id,
        cast(activity_type as {{ dbt.type_string() }}) as activity_type,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(activity_detail as {{ dbt.type_string() }}) as activity_detail,
        cast(amount_reporting as decimal(14, 2)) as amount_reporting,
        cast(_loaded_at as {{ dbt.type_timestamp() }}) as _loaded_at,
        {{ cdp.utc_now() }} as _processed_at
    from activities

)

select * from final
