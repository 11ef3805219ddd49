{#- The scoring step's output is usable: churn probabilities in [0, 1]
    (null only for customers who never bought) and CLV never negative. -#}
select
    customer_scores.customer_id,
    customer_scores.has_purchased,
    customer_scores.churn_probability_90d,
    customer_scores.predicted_clv_365d
from {{ source('predictions', 'customer_scores') }} as customer_scores
where
    customer_scores.predicted_clv_365d < 0
    or customer_scores.churn_probability_90d < 0
    or customer_scores.churn_probability_90d > 1
    or (
        customer_scores.has_purchased
        and customer_scores.churn_probability_90d is null
    )
