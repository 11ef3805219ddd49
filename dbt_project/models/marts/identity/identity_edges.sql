{#- Every link identity resolution made, with both records, the customer
    they belong to, the rule that linked them and its score. -#}
with

edges as (

    select * from {{ ref('int_identity_edges_matched') }}

),

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

customer_ids as (

    select * from {{ ref('int_identity_customer_ids') }}

),

final as (

    select
        customer_ids.customer_id,
        left_records.source_name as left_source_name,
        left_records.source_record_id as left_source_record_id,
        right_records.source_name as right_source_name,
        right_records.source_record_id as right_source_record_id,
        edges.rule_name,
        edges.rule_order,
        cast(edges.score as real) as score,
        edges.left_record_key,
        edges.right_record_key
    from edges
    inner join records as left_records
        on edges.left_record_key = left_records.record_key
    inner join records as right_records
        on edges.right_record_key = right_records.record_key
    inner join customer_ids
        on edges.left_record_key = customer_ids.record_key

)

select * from final
