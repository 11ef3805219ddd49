{#- Every consent signal held about a customer, one row per signal, from
    every source that carries one. `evidence` says how much it proves:
      explicit  the person acted on a consent question: an event of the
                consent platform (grant or revoke), an unsubscribed status
                in the email platform, an unsubscribe event;
      inferred  an opt-in read from a system's state, not from a recorded
                consent: a subscribed email-platform member, a shop account
                with accepts_marketing.
    confirmed_at is the double opt-in confirmation where the source has one.
    An explicit email opt-out is about the address: it is also recorded for
    every other customer holding that address (via_shared_address = true),
    so two people resolved apart on one inbox cannot re-open it for each
    other with an inferred opt-in. -#}
with

source_records as (

    select * from {{ ref('customer_source_records') }}

),

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

consent_events as (

    select * from {{ ref('stg_consent__consent_events') }}

),

email_subscribers as (

    select * from {{ ref('stg_email__subscribers') }}

),

email_events as (

    select * from {{ ref('stg_email__events') }}

),

shop_customers as (

    select * from {{ ref('stg_shop__customers') }}

),

consent_platform_signals as (

    select
        source_records.customer_id,
        'consent_events' as source_name,
        cast(consent_events.consent_event_id as {{ dbt.type_string() }})
            as source_record_id,
        consent_events.channel,
        consent_events.purpose,
        consent_events.is_granted,
        'explicit' as evidence,
        consent_events.collection_method,
        consent_events.occurred_at,
        consent_events.confirmed_at,
        source_records.record_key
    from consent_events
    inner join source_records
        on
            source_records.source_name = 'consent_events'
            and cast(consent_events.consent_event_id as {{ dbt.type_string() }})
            = source_records.source_record_id

),

subscriber_signals as (

    select
        source_records.customer_id,
        'email_subscribers' as source_name,
        cast(email_subscribers.subscriber_id as {{ dbt.type_string() }})
            as source_record_id,
        'email' as channel,
        'marketing' as purpose,
        email_subscribers.is_subscribed as is_granted,
        case
            when email_subscribers.is_subscribed then 'inferred' else 'explicit'
        end as evidence,
        case
            when email_subscribers.is_subscribed then 'email_platform_member'
            else 'email_platform_unsubscribed'
        end as collection_method,
        case
            when email_subscribers.is_subscribed
                then coalesce(
                    email_subscribers.opted_in_at, email_subscribers.updated_at
                )
            else email_subscribers.updated_at
        end as occurred_at,
        email_subscribers.confirmed_at,
        source_records.record_key
    from email_subscribers
    inner join source_records
        on
            source_records.source_name = 'email_subscribers'
            and cast(email_subscribers.subscriber_id as {{ dbt.type_string() }})
            = source_records.source_record_id
    where email_subscribers.status in ('subscribed', 'unsubscribed')

),

unsubscribe_signals as (

    select
        source_records.customer_id,
        'email_events' as source_name,
        cast(email_events.email_event_id as {{ dbt.type_string() }}) as source_record_id,
        'email' as channel,
        'marketing' as purpose,
        false as is_granted,
        'explicit' as evidence,
        'unsubscribe_link' as collection_method,
        email_events.occurred_at,
        cast(null as {{ dbt.type_timestamp() }}) as confirmed_at,
        source_records.record_key
    from email_events
    inner join source_records
        on
            source_records.source_name = 'email_subscribers'
            and cast(email_events.subscriber_id as {{ dbt.type_string() }})
            = source_records.source_record_id
    where email_events.event_type = 'unsubscribe'

),

shop_account_signals as (

    select
        source_records.customer_id,
        'shop_customers' as source_name,
        cast(shop_customers.customer_id as {{ dbt.type_string() }})
            as source_record_id,
        'email' as channel,
        'marketing' as purpose,
        true as is_granted,
        'inferred' as evidence,
        'shop_account_checkbox' as collection_method,
        coalesce(shop_customers.created_at, shop_customers.updated_at)
            as occurred_at,
        cast(null as {{ dbt.type_timestamp() }}) as confirmed_at,
        source_records.record_key
    from shop_customers
    inner join source_records
        on
            source_records.source_name = 'shop_customers'
            and cast(shop_customers.customer_id as {{ dbt.type_string() }})
            = source_records.source_record_id
    where shop_customers.is_accepting_marketing

),

signals as (

    select * from consent_platform_signals
    union all
    select * from subscriber_signals
    union all
    select * from unsubscribe_signals
    union all
    select * from shop_account_signals

),

address_holders as (

    select distinct
        source_records.customer_id,
        records.email
    from source_records
    inner join records
        on source_records.record_key = records.record_key
    where records.email is not null

),

address_revokes as (

    select
        signals.*,
        records.email
    from signals
    inner join records
        on signals.record_key = records.record_key
    where
        signals.channel = 'email'
        and signals.evidence = 'explicit'
        and not signals.is_granted
        and records.email is not null

),

shared_address_revokes as (

    select distinct
        address_holders.customer_id,
        address_revokes.source_name,
        address_revokes.source_record_id,
        address_revokes.channel,
        address_revokes.purpose,
        address_revokes.is_granted,
        address_revokes.evidence,
        address_revokes.collection_method,
        address_revokes.occurred_at,
        address_revokes.confirmed_at,
        true as via_shared_address
    from address_revokes
    inner join address_holders
        on
            address_revokes.email = address_holders.email
            and address_revokes.customer_id <> address_holders.customer_id

),

all_signals as (

    select
        customer_id,
        source_name,
        source_record_id,
        channel,
        purpose,
        is_granted,
        evidence,
        collection_method,
        occurred_at,
        confirmed_at,
        false as via_shared_address
    from signals
    union all
    select * from shared_address_revokes

),

final as (

    select
        customer_id,
        cast(source_name as {{ dbt.type_string() }}) as source_name,
        source_record_id,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(purpose as {{ dbt.type_string() }}) as purpose,
        is_granted,
        cast(
            case when is_granted then 'granted' else 'revoked' end
            as {{ dbt.type_string() }}
        ) as consent_status,
        cast(evidence as {{ dbt.type_string() }}) as evidence,
        cast(collection_method as {{ dbt.type_string() }}) as collection_method,
        occurred_at,
        confirmed_at,
        confirmed_at is not null as is_double_opt_in_confirmed,
        via_shared_address
    from all_signals
    where occurred_at is not null

)

select * from final
