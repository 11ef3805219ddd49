{#- The event log the triggers send (reverse_etl/README.md, "Triggers"): one
    row per entry into or exit from a segment, from
    segment_membership_changes, appended by the build that first saw it.
    `event_id` (as-of date, segment, customer, change) is the key a trigger
    sends each event once by, so it never changes; `occurred_at` is when that
    build started. Never rebuilt by --full-refresh (full_refresh: false), so
    a full refresh resends nothing. An erasure deletes the person's rows
    (docs/privacy.md). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
) }}

with

changes as (

    select * from {{ ref('segment_membership_changes') }}

),

events as (

    select
        cast(changes.change_date as {{ dbt.type_string() }})
        || ':' || changes.segment_name
        || ':' || changes.customer_id
        || ':' || changes.change_type as event_id,
        case
            when changes.change_type = 'entered' then 'segment_entered'
            else 'segment_left'
        end as event_type,
        changes.segment_name,
        changes.customer_id,
        changes.change_date,
        changes.run_id as build_id
    from changes

),

new_events as (

    select events.*
    from events
    {%- if is_incremental() %}
        left join {{ this }} as recorded
            on events.event_id = recorded.event_id
        where recorded.event_id is null
    {%- endif %}

),

final as (

    select
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        cast(segment_name as {{ dbt.type_string() }}) as segment_name,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(change_date as date) as change_date,
        cast(
            '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}'
            as {{ dbt.type_timestamp() }}
        ) as occurred_at,
        cast(build_id as {{ dbt.type_string() }}) as build_id
    from new_events

)

select * from final
