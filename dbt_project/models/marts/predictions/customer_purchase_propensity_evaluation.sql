{#- Holdout evaluation of the purchase-propensity model: on the customers
    left out of training (hash of the customer id), the Brier score and log
    loss of the model against the naive baseline that predicts the training
    base rate for everyone. One row per metric; beats_baseline must hold
    (tested). Features as of cdp__purchase_propensity_horizon_days (default
    90) before the as-of date, as for the training. -#}
{%- set horizon_days = var('cdp__purchase_propensity_horizon_days') %}

with

cells as (

    select * from {{ ref('customer_purchase_propensity_cells') }}

),

feature_rows as (

    {{ cdp.predictions_purchase_features(
        ref('customer_activities'),
        ref('customer_measures'),
        dbt.dateadd('day', -horizon_days, cdp.cdp_as_of_date()),
        horizon_days
    ) }}

),

holdout as (

    select * from feature_rows
    where substr({{ dbt.hash('customer_id') }}, 1, 1) in ('0', '1', '2')

),

base_rate as (

    select max(base_rate) as base_rate from cells

),

predictions as (

    select
        holdout.purchased_in_horizon as actual,
        least(greatest(coalesce(cells.purchase_probability, base_rate.base_rate), 0.001), 0.999)
            as model_probability,
        least(greatest(base_rate.base_rate, 0.001), 0.999) as baseline_probability
    from holdout
    cross join base_rate
    left join cells
        on
            holdout.recency_bucket = cells.recency_bucket
            and holdout.frequency_bucket = cells.frequency_bucket
            and holdout.engagement_bucket = cells.engagement_bucket

),

scores as (

    select
        count(*) as holdout_customers,
        avg((model_probability - actual) * (model_probability - actual)) as model_brier,
        avg((baseline_probability - actual) * (baseline_probability - actual))
            as baseline_brier,
        avg(-(actual * ln(model_probability) + (1 - actual) * ln(1 - model_probability)))
            as model_log_loss,
        avg(-(
            actual * ln(baseline_probability)
            + (1 - actual) * ln(1 - baseline_probability)
        )) as baseline_log_loss
    from predictions

),

metrics as (

    select
        'brier_score' as metric_name,
        model_brier as model_value,
        baseline_brier as baseline_value,
        holdout_customers
    from scores
    union all
    select
        'log_loss' as metric_name,
        model_log_loss as model_value,
        baseline_log_loss as baseline_value,
        holdout_customers
    from scores

),

final as (

    select
        cast('purchase_propensity_90d' as {{ dbt.type_string() }}) as model_name,
        {{ cdp.cdp_as_of_date() }} as as_of_date,
        cast(metric_name as {{ dbt.type_string() }}) as metric_name,
        cast(model_value as {{ cdp.type_double() }}) as model_value,
        cast(baseline_value as {{ cdp.type_double() }}) as baseline_value,
        model_value < baseline_value as beats_baseline,
        cast(holdout_customers as bigint) as holdout_customers
    from metrics

)

select * from final
