{#- Who entered and who exited each segment on each build date (the as-of
    date), read from segment_membership_history after it was updated.
    Incremental by change_date: rebuilding the same date replaces that
    date's rows, earlier dates stay. -#}
{{ config(
    materialized='incremental',
    unique_key='change_date',
    incremental_strategy='delete+insert',
) }}

with

history as (

    select * from {{ ref('segment_membership_history') }}

),

entered as (

    select
        segment_name,
        customer_id,
        'entered' as change_type
    from history
    where valid_from = {{ cdp.cdp_as_of_date() }}

),

exited as (

    select
        segment_name,
        customer_id,
        'exited' as change_type
    from history
    where valid_to = {{ cdp.cdp_as_of_date() }}

),

changes as (

    select * from entered
    union all
    select * from exited

),

final as (

    select
        {{ cdp.cdp_as_of_date() }} as change_date,
        cast(segment_name as {{ dbt.type_string() }}) as segment_name,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(change_type as {{ dbt.type_string() }}) as change_type,
        cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as run_id
    from changes

)

select * from final
