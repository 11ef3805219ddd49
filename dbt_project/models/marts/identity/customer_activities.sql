{#- One timeline per customer across systems: online orders, store
    purchases (receipts with a loyalty card), web and app events, email
    engagement and support tickets. Web events join through their anonymous
    id, so everything a device did before its first identify belongs to the
    person too (retroactive stitching). Activities whose record belongs to
    no customer (anonymous store receipts) are left out.
    A view: the activities themselves are built incrementally
    (int_activities_unioned) and the customer is looked up here, so when
    identity resolution moves a record to another customer (a merge or a
    split), its whole history follows without rebuilding anything
    (docs/incremental.md). -#}
{{ config(materialized='view') }}

with

source_records as (

    select * from {{ ref('customer_source_records') }}

),

activities as (

    select * from {{ ref('int_activities_unioned') }}

),

final as (

    select
        source_records.customer_id,
        activities.activity_type,
        activities.activity_id,
        activities.occurred_at,
        activities.source_name,
        activities.source_record_id,
        activities.activity_detail,
        activities.amount_reporting
    from activities
    inner join source_records
        on
            activities.source_name = source_records.source_name
            and activities.source_record_id = source_records.source_record_id

)

select * from final
