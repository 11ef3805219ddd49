{#- A select of purchase-propensity features per customer as of the end of
    the day `as_of_date_sql` (a SQL date expression), from a relation shaped
    like customer_activities: recency, frequency and email-engagement
    buckets, and whether the customer bought in the `horizon_days` after
    that day (the label, when known). -#}
{% macro predictions_purchase_features(activities_relation, customers_relation, as_of_date_sql, horizon_days) -%}
    {{ return(adapter.dispatch('predictions_purchase_features', 'cdp')(
        activities_relation, customers_relation, as_of_date_sql, horizon_days
    )) }}
{%- endmacro %}

{% macro default__predictions_purchase_features(activities_relation, customers_relation, as_of_date_sql, horizon_days) -%}
    {%- set day_end = dbt.dateadd('day', 1, as_of_date_sql) -%}
    {%- set horizon_end = dbt.dateadd('day', horizon_days + 1, as_of_date_sql) -%}
    select
        customers.customer_id,
        case
            when history.last_purchase_at is null then 'r0_never'
            when history.last_purchase_at >= {{ dbt.dateadd('day', -30, day_end) }} then 'r1_30d'
            when history.last_purchase_at >= {{ dbt.dateadd('day', -90, day_end) }} then 'r2_90d'
            when history.last_purchase_at >= {{ dbt.dateadd('day', -180, day_end) }} then 'r3_180d'
            when history.last_purchase_at >= {{ dbt.dateadd('day', -365, day_end) }} then 'r4_365d'
            else 'r5_older'
        end as recency_bucket,
        case
            when coalesce(history.purchases_365d, 0) = 0 then 'f0'
            when history.purchases_365d = 1 then 'f1'
            when history.purchases_365d <= 3 then 'f2_3'
            else 'f4_plus'
        end as frequency_bucket,
        case
            when coalesce(history.email_opens_90d, 0) > 0 then 'engaged'
            else 'not_engaged'
        end as engagement_bucket,
        case when coalesce(future.purchases, 0) > 0 then 1 else 0 end as purchased_in_horizon
    from {{ customers_relation }} as customers
    left join (
        select
            customer_id,
            max(case
                when activity_type in ('online_order', 'store_purchase') then occurred_at
            end) as last_purchase_at,
            sum(case
                when activity_type in ('online_order', 'store_purchase')
                    and occurred_at >= {{ dbt.dateadd('day', -365, day_end) }}
                    then 1 else 0
            end) as purchases_365d,
            sum(case
                when activity_type = 'email_open'
                    and occurred_at >= {{ dbt.dateadd('day', -90, day_end) }}
                    then 1 else 0
            end) as email_opens_90d
        from {{ activities_relation }}
        where occurred_at < {{ day_end }}
        group by customer_id
    ) as history
        on customers.customer_id = history.customer_id
    left join (
        select
            customer_id,
            count(*) as purchases
        from {{ activities_relation }}
        where
            activity_type in ('online_order', 'store_purchase')
            and occurred_at >= {{ day_end }}
            and occurred_at < {{ horizon_end }}
        group by customer_id
    ) as future
        on customers.customer_id = future.customer_id
{%- endmacro %}
