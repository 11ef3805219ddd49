with

source as (

    select * from {{ source('predictions', 'customer_scores') }}

),

final as (

    select
        customer_id,
        as_of_date,
        has_purchased,
        churn_probability_90d,
        predicted_clv_365d
    from source

)

select * from final
