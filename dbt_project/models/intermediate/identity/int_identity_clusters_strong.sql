{{ config(
    materialized='connected_components',
    node_column='record_key',
    component_column='cluster_key',
) }}
{#- Connected components of the strong links only (see
    int_identity_edges_strong). -#}
with

edges as (

    select * from {{ ref('int_identity_edges_strong') }}

),

final as (

    select
        node_a,
        node_b
    from edges

)

select * from final
