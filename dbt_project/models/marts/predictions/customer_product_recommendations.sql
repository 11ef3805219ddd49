{#- The five next products recommended to each customer as of the as-of
    date (item-to-item co-purchase, topped up with the most popular
    products), never one the customer already bought. -#}
with

recommendations as (

    select * from {{ ref('int_prediction_recommendations') }}
    where recommender = 'co_purchase' and window_role = 'score'

),

products as (

    select
        product_id,
        max(product_name) as product_name,
        max(category) as category
    from {{ ref('stg_shop__order_lines') }}
    group by product_id

),

final as (

    select
        recommendations.customer_id,
        recommendations.cutoff_date as as_of_date,
        recommendations.recommendation_rank,
        recommendations.product_id,
        products.product_name,
        products.category,
        recommendations.co_purchase_score,
        recommendations.co_purchase_score is null as is_popularity_fill
    from recommendations
    left join products
        on recommendations.product_id = products.product_id

)

select * from final
