{#- Which customer each source record belongs to: the contract other
    domains use to attach anything keyed by a source record id. -#}
with

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

customer_ids as (

    select * from {{ ref('int_identity_customer_ids') }}

),

final as (

    select
        records.source_name,
        records.source_record_id,
        customer_ids.customer_id,
        records.record_key,
        records.updated_at
    from records
    inner join customer_ids
        on records.record_key = customer_ids.record_key

)

select * from final
