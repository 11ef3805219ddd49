{#- Email subscribers who opted in during the 30 days ending on the as-of
    date, are still subscribed and never bought. -#}
with

source_records as (

    select * from {{ ref('customer_source_records') }}

),

subscribers as (

    select * from {{ ref('stg_email__subscribers') }}

),

measures as (

    select * from {{ ref('customer_measures') }}

),

customers as (

    select * from {{ ref('customers') }}

),

new_subscribers as (

    select
        source_records.customer_id,
        min(subscribers.opted_in_at) as opted_in_at
    from subscribers
    inner join source_records
        on
            source_records.source_name = 'email_subscribers'
            and cast(subscribers.subscriber_id as {{ dbt.type_string() }})
            = source_records.source_record_id
    where
        subscribers.is_subscribed
        and subscribers.opted_in_at
        >= {{ dbt.dateadd('day', -29, cdp.cdp_as_of_date()) }}
        and subscribers.opted_in_at
        < {{ dbt.dateadd('day', 1, cdp.cdp_as_of_date()) }}
    group by source_records.customer_id

),

final as (

    select
        new_subscribers.customer_id,
        customers.email,
        customers.first_name,
        new_subscribers.opted_in_at
    from new_subscribers
    inner join measures
        on new_subscribers.customer_id = measures.customer_id
    inner join customers
        on new_subscribers.customer_id = customers.customer_id
    where measures.purchase_count = 0

)

select * from final
