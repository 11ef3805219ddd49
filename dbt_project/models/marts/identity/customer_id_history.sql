{{ config(
    materialized='incremental',
    full_refresh=false,
    on_schema_change='fail',
) }}
{#- Append-only log of what happened to customer ids, one row per event of a
    run that changed something:
      created  a new customer appeared (no record had an id before)
      merged   the customer's clusters joined another one; the id is retired
               and related_customer_id is the id that survived
      split    the customer was cut off a cluster that kept its id
               (related_customer_id); it got this new id
    Never rebuilt by --full-refresh, so the history outlives rebuilds. A run
    that changes nothing adds nothing. -#}
with

assignments as (

    select * from {{ ref('int_identity_customer_ids') }}

),

current_ids as (

    select distinct customer_id
    from assignments

),

previous_ids as (

    select distinct previous_customer_id as customer_id
    from assignments
    where previous_customer_id is not null

),

new_customers as (

    select
        assignments.customer_id,
        count(*) as record_count,
        max(assignments.previous_customer_id) as split_from_customer_id,
        max(assignments.assigned_in_run_id) as run_id,
        max(assignments.assigned_at) as occurred_at
    from assignments
    left join previous_ids
        on assignments.customer_id = previous_ids.customer_id
    where previous_ids.customer_id is null
    group by assignments.customer_id

),

retired_ids as (

    select
        assignments.previous_customer_id as customer_id,
        max(assignments.customer_id) as merged_into_customer_id,
        count(*) as record_count,
        max(assignments.assigned_in_run_id) as run_id,
        max(assignments.assigned_at) as occurred_at
    from assignments
    left join current_ids
        on assignments.previous_customer_id = current_ids.customer_id
    where
        assignments.previous_customer_id is not null
        and current_ids.customer_id is null
    group by assignments.previous_customer_id

),

events as (

    select
        customer_id,
        case
            when split_from_customer_id is null then 'created'
            else 'split'
        end as event_type,
        split_from_customer_id as related_customer_id,
        record_count,
        run_id,
        occurred_at
    from new_customers
    union all
    select
        customer_id,
        'merged' as event_type,
        merged_into_customer_id as related_customer_id,
        record_count,
        run_id,
        occurred_at
    from retired_ids

),

final as (

    select
        cast(
            {{ dbt.hash("events.run_id || ':' || events.event_type || ':' || events.customer_id") }}
            as {{ dbt.type_string() }}
        ) as customer_id_event_id,
        cast(events.customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(events.event_type as {{ dbt.type_string() }}) as event_type,
        cast(events.related_customer_id as {{ dbt.type_string() }}) as related_customer_id,
        cast(events.record_count as {{ dbt.type_bigint() }}) as record_count,
        cast(events.run_id as {{ dbt.type_string() }}) as run_id,
        cast(events.occurred_at as {{ dbt.type_timestamp() }}) as occurred_at
    from events
    {%- if is_incremental() %}
    where events.run_id not in (select history.run_id from {{ this }} as history)
    {%- endif %}

)

select * from final
