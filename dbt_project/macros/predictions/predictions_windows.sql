{#- The predictive models and their horizons, as a list of
    {model_name, horizon_days, roles}. The windows relative to the as-of date
    T (var cdp__as_of_date) and the horizon H: train (features as of T-2H,
    label on (T-2H, T-H]), evaluate (features as of T-H, label on (T-H, T])
    and score (features as of T, label unknown). Recommendations learn from
    the history before each cutoff itself, so they have no train window. -#}
{% macro predictions_windows() -%}
    {{ return(adapter.dispatch('predictions_windows', 'cdp')()) }}
{%- endmacro %}

{% macro default__predictions_windows() -%}
    {{ return([
        {'model_name': 'churn_90d', 'horizon_days': 90,
         'roles': ['train', 'evaluate', 'score']},
        {'model_name': 'clv_365d', 'horizon_days': 365,
         'roles': ['train', 'evaluate', 'score']},
        {'model_name': 'next_product_top5', 'horizon_days': 90,
         'roles': ['evaluate', 'score']},
    ]) }}
{%- endmacro %}
