{#- Loyalty members with a gold tier, or a silver tier and an RFM group of
    champions or loyal. -#}
with

measures as (

    select * from {{ ref('customer_measures') }}

),

customers as (

    select * from {{ ref('customers') }}

),

final as (

    select
        measures.customer_id,
        customers.email,
        customers.first_name,
        customers.phone_e164,
        measures.loyalty_tier,
        measures.lifetime_revenue
    from measures
    inner join customers
        on measures.customer_id = customers.customer_id
    where
        measures.loyalty_tier = 'gold'
        or (
            measures.loyalty_tier = 'silver'
            and measures.rfm_group in ('champions', 'loyal')
        )

)

select * from final
