{#- Top-k next-product recommendations per customer at each cutoff of the
    next_product_top5 windows (evaluate: as-of date minus 90 days; score:
    the as-of date), by two recommenders:
    - co_purchase: item-to-item. Two products are similar when the same
      customers bought both (cosine of their buyer sets, from purchases up
      to the cutoff); a candidate's score is the sum of its similarities to
      the customer's products, each product keeping its
      cdp__recommendations_neighbours_per_product (default 20) nearest
      neighbours. Slots left over are filled with the most popular products
      (the cdp__recommendations_popular_pool, default 50, most bought).
    - most_popular: the baseline, the products with most buyers up to the
      cutoff.
    Products the customer already bought by the cutoff are never
    recommended. Customers: those with a purchase by the cutoff, and at the
    as-of date every customer.
    top_k is cdp__recommendations_top_k (default 5; the model name
    next_product_top5 and the metric hit_rate_at_5 state the default).
    A customer needs at most top_k popular products they have not bought,
    and the first top_k + (popular products they bought) ranks always hold
    them, also when co-purchase candidates take some of the slots. So each
    customer is paired with those ranks only, not the whole pool: the same
    recommendations from about a tenth of the rows (at 1M customers the
    whole pool was 100M candidate rows). -#}
{%- set top_k = var('cdp__recommendations_top_k') %}
{%- set neighbours_per_product = var('cdp__recommendations_neighbours_per_product') %}
{%- set popular_pool = var('cdp__recommendations_popular_pool') %}

with

windows as (

    select * from {{ ref('int_prediction_windows') }}
    where model_name = 'next_product_top5'

),

customer_products as (

    select * from {{ ref('int_prediction_customer_products') }}

),

customers as (

    select customer_id from {{ ref('customers') }}

),

cutoffs as (

    select
        cutoff_date,
        {{ dbt.dateadd('day', 1, 'cutoff_date') }} as cutoff_end_at,
        cutoff_date = {{ cdp.cdp_as_of_date() }} as is_as_of_date
    from windows

),

history as (

    select
        cutoffs.cutoff_date,
        customer_products.customer_id,
        customer_products.product_id
    from cutoffs
    inner join customer_products
        on cutoffs.cutoff_end_at > customer_products.first_bought_at

),

recommended_customers as (

    select distinct
        cutoff_date,
        customer_id
    from history
    union
    select
        cutoffs.cutoff_date,
        customers.customer_id
    from cutoffs
    cross join customers
    where cutoffs.is_as_of_date

),

product_buyers as (

    select
        cutoff_date,
        product_id,
        count(*) as buyers
    from history
    group by cutoff_date, product_id

),

co_buyers as (

    select
        bought.cutoff_date,
        bought.product_id,
        also_bought.product_id as similar_product_id,
        count(*) as co_buyers
    from history as bought
    inner join history as also_bought
        on
            bought.cutoff_date = also_bought.cutoff_date
            and bought.customer_id = also_bought.customer_id
            and bought.product_id != also_bought.product_id
    group by bought.cutoff_date, bought.product_id, also_bought.product_id

),

similarities as (

    select
        co_buyers.cutoff_date,
        co_buyers.product_id,
        co_buyers.similar_product_id,
        -- in double precision on every engine (IEEE division and sqrt give
        -- the same bits everywhere; PostgreSQL would otherwise use numeric)
        cast(co_buyers.co_buyers as {{ cdp.type_double() }}) / sqrt(
            cast(
                product_buyers.buyers * similar_buyers.buyers
                as {{ cdp.type_double() }}
            )
        ) as similarity
    from co_buyers
    inner join product_buyers
        on
            co_buyers.cutoff_date = product_buyers.cutoff_date
            and co_buyers.product_id = product_buyers.product_id
    inner join product_buyers as similar_buyers
        on
            co_buyers.cutoff_date = similar_buyers.cutoff_date
            and co_buyers.similar_product_id = similar_buyers.product_id

),

nearest_neighbours as (

    select
        cutoff_date,
        product_id,
        similar_product_id,
        similarity,
        row_number() over (
            partition by cutoff_date, product_id
            order by similarity desc, similar_product_id asc
        ) as neighbour_rank
    from similarities

),

co_purchase_candidates as (

    select
        history.cutoff_date,
        history.customer_id,
        nearest_neighbours.similar_product_id as product_id,
        -- rounded, so a different summation order cannot reorder near-ties
        cast(sum(nearest_neighbours.similarity) as {{ dbt.type_numeric() }}) as score
    from history
    inner join nearest_neighbours
        on
            history.cutoff_date = nearest_neighbours.cutoff_date
            and history.product_id = nearest_neighbours.product_id
    where nearest_neighbours.neighbour_rank <= {{ neighbours_per_product }}
    group by history.cutoff_date, history.customer_id, nearest_neighbours.similar_product_id

),

popular_products as (

    select
        cutoff_date,
        product_id,
        buyers,
        row_number() over (
            partition by cutoff_date order by buyers desc, product_id asc
        ) as popularity_rank
    from product_buyers

),

bought_popular as (

    select
        history.cutoff_date,
        history.customer_id,
        count(*) as bought_count
    from history
    inner join popular_products
        on
            history.cutoff_date = popular_products.cutoff_date
            and history.product_id = popular_products.product_id
    where popular_products.popularity_rank <= {{ popular_pool }}
    group by history.cutoff_date, history.customer_id

),

popular_candidates as (

    select
        recommended_customers.cutoff_date,
        recommended_customers.customer_id,
        popular_products.product_id,
        popular_products.popularity_rank
    from recommended_customers
    left join bought_popular
        on
            recommended_customers.cutoff_date = bought_popular.cutoff_date
            and recommended_customers.customer_id = bought_popular.customer_id
    inner join popular_products
        on recommended_customers.cutoff_date = popular_products.cutoff_date
    where
        popular_products.popularity_rank <= {{ popular_pool }}
        and popular_products.popularity_rank
        <= {{ top_k }} + coalesce(bought_popular.bought_count, 0)

),

candidates as (

    select
        'co_purchase' as recommender,
        cutoff_date,
        customer_id,
        product_id,
        0 as source_priority,
        score
    from co_purchase_candidates
    union all
    select
        'co_purchase' as recommender,
        cutoff_date,
        customer_id,
        product_id,
        1 as source_priority,
        -1.0 * popularity_rank as score
    from popular_candidates
    union all
    select
        'most_popular' as recommender,
        cutoff_date,
        customer_id,
        product_id,
        1 as source_priority,
        -1.0 * popularity_rank as score
    from popular_candidates

),

unbought_candidates as (

    select candidates.*
    from candidates
    left join history
        on
            candidates.cutoff_date = history.cutoff_date
            and candidates.customer_id = history.customer_id
            and candidates.product_id = history.product_id
    where history.product_id is null

),

best_per_product as (

    select
        *,
        row_number() over (
            partition by recommender, cutoff_date, customer_id, product_id
            order by source_priority asc, score desc
        ) as product_rank
    from unbought_candidates

),

ranked as (

    select
        *,
        row_number() over (
            partition by recommender, cutoff_date, customer_id
            order by source_priority asc, score desc, product_id asc
        ) as recommendation_rank
    from best_per_product
    where product_rank = 1

),

final as (

    select
        cast(ranked.recommender as {{ dbt.type_string() }}) as recommender,
        windows.window_role,
        ranked.cutoff_date,
        ranked.customer_id,
        ranked.product_id,
        cast(ranked.recommendation_rank as integer) as recommendation_rank,
        cast(case
            when ranked.source_priority = 0 then ranked.score
        end as decimal(18, 6)) as co_purchase_score
    from ranked
    inner join windows
        on ranked.cutoff_date = windows.cutoff_date
    where ranked.recommendation_rank <= {{ top_k }}

)

select * from final
