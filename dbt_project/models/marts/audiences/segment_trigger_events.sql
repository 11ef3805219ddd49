{#- What a trigger reads (syncs.yml `triggers:`): the membership events of
    the last var cdp__trigger_window_days days (counted back from the newest
    event, so a trigger added later does not send the whole history), with
    the customer's current golden traits. A view: the traits are read when
    the trigger runs, and no copy of them is kept. -#}
{{ config(materialized='view') }}

with

events as (

    select * from {{ ref('segment_membership_events') }}

),

customers as (

    select * from {{ ref('customers') }}

),

newest as (

    select max(occurred_at) as occurred_at
    from events

),

recent_events as (

    select events.*
    from events
    cross join newest
    where
        events.occurred_at >= {{ dbt.dateadd(
            'day',
            -1 * var('cdp__trigger_window_days'),
            'newest.occurred_at',
        ) }}

),

final as (

    select
        recent_events.event_id,
        recent_events.event_type,
        recent_events.segment_name,
        recent_events.customer_id,
        recent_events.change_date,
        recent_events.occurred_at,
        recent_events.build_id,
        customers.email,
        customers.phone_e164,
        customers.first_name,
        customers.last_name,
        customers.city,
        customers.country_code
    from recent_events
    left join customers
        on recent_events.customer_id = customers.customer_id

)

select * from final
