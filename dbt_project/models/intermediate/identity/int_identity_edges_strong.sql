{#- Links made by the strong rules alone (int_identity_pairs_strong), plus a
    self-link per record. Their connected components
    (int_identity_clusters_strong) tell how many different people hold an
    email or phone (int_identity_identifier_people), which the weak rules,
    those trusting a value held by one person only, then rely on. -#}
with

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

strong_pairs as (

    select * from {{ ref('int_identity_pairs_strong') }}

),

final as (

    select
        left_record_key as node_a,
        right_record_key as node_b
    from strong_pairs
    union all
    select
        record_key as node_a,
        record_key as node_b
    from records

)

select * from final
