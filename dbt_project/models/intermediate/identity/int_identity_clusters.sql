{{ config(
    materialized='connected_components',
    node_column='record_key',
    component_column='cluster_key',
) }}
{#- Transitive stitching: every record with the smallest record key of the
    group of records its edges join, directly or through a chain (connected
    components, computed by the connected_components materialization until no
    label changes; `iterations` says how many passes it took). Every record
    appears, linked or not (a self-edge per record). -#}
with

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

edges as (

    select * from {{ ref('int_identity_edges_matched') }}

),

final as (

    select
        left_record_key as node_a,
        right_record_key as node_b
    from edges
    union all
    select
        record_key as node_a,
        record_key as node_b
    from records

)

select * from final
