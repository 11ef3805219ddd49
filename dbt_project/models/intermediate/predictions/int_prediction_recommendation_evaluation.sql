{#- Holdout evaluation of the next-product recommendations, in the shape of
    predictions.model_evaluations (the scoring step copies these rows
    there). Recommendations are made as of the evaluate cutoff (as-of date
    minus 90 days) from purchases up to it; the customers evaluated bought
    before the cutoff and bought at least one product new to them in the
    90 days after it. hit_rate_at_5: share of them who bought at least one
    of their 5 recommended products in that window, for co_purchase
    against the most_popular baseline. -#}
with

windows as (

    select * from {{ ref('int_prediction_windows') }}
    where model_name = 'next_product_top5' and window_role = 'evaluate'

),

recommendations as (

    select * from {{ ref('int_prediction_recommendations') }}
    where window_role = 'evaluate'

),

customer_products as (

    select * from {{ ref('int_prediction_customer_products') }}

),

new_purchases as (

    select
        customer_products.customer_id,
        customer_products.product_id
    from windows
    inner join customer_products
        on
            customer_products.first_bought_at
            >= {{ dbt.dateadd('day', 1, 'windows.cutoff_date') }}
            and customer_products.first_bought_at
            < {{ dbt.dateadd('day', 1, 'windows.label_end_date') }}

),

evaluated_customers as (

    select distinct recommendations.customer_id
    from recommendations
    inner join new_purchases
        on recommendations.customer_id = new_purchases.customer_id
    where recommendations.recommender = 'co_purchase'

),

customer_hits as (

    select
        recommendations.recommender,
        recommendations.customer_id,
        max(case when new_purchases.product_id is not null then 1 else 0 end) as is_hit
    from recommendations
    inner join evaluated_customers
        on recommendations.customer_id = evaluated_customers.customer_id
    left join new_purchases
        on
            recommendations.customer_id = new_purchases.customer_id
            and recommendations.product_id = new_purchases.product_id
    group by recommendations.recommender, recommendations.customer_id

),

hit_rates as (

    select
        -- as double: Spark's avg of a decimal keeps only 4 more decimal places,
        -- which rounds before the cast to decimal(18, 6) below
        avg(
            case
                when recommender = 'co_purchase'
                    then cast(is_hit as {{ cdp.type_double() }})
            end
        ) as model_value,
        avg(
            case
                when recommender = 'most_popular'
                    then cast(is_hit as {{ cdp.type_double() }})
            end
        ) as baseline_value,
        count(distinct customer_id) as holdout_rows
    from customer_hits

),

final as (

    select
        cast('next_product_top5' as {{ dbt.type_string() }}) as model_name,
        cast('hit_rate_at_5' as {{ dbt.type_string() }}) as metric_name,
        cast(hit_rates.model_value as decimal(18, 6)) as model_value,
        cast('most_popular' as {{ dbt.type_string() }}) as baseline_name,
        cast(hit_rates.baseline_value as decimal(18, 6)) as baseline_value,
        true as is_higher_better,
        cast(null as date) as train_cutoff_date,
        windows.cutoff_date as holdout_cutoff_date,
        windows.label_end_date as holdout_label_end_date,
        cast(hit_rates.holdout_rows as bigint) as holdout_rows
    from hit_rates
    cross join windows

)

select * from final
