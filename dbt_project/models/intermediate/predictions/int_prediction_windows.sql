{#- One row per predictive model and window role (train, evaluate, score):
    the cutoff date features are computed as of (end of that day) and the
    last day of the label window, from cdp.predictions_windows() and the
    as-of date T. The scoring step (cdp/predictions) reads it to pick its
    training, holdout and scoring rows. -#}
{%- set offsets = {'train': 2, 'evaluate': 1, 'score': 0} %}

with

windows as (

    {% for window in cdp.predictions_windows() %}
        {%- set horizon = window['horizon_days'] %}
        {%- for role in window['roles'] %}
            {%- set cutoff_offset = -offsets[role] * horizon %}
            select
                '{{ window["model_name"] }}' as model_name,
                '{{ role }}' as window_role,
                {{ horizon }} as horizon_days,
                {{ dbt.dateadd('day', cutoff_offset, cdp.cdp_as_of_date()) }}
                    as cutoff_at,
                {% if role == 'score' -%}
                    cast(null as date)
                {%- else -%}
                    {{ dbt.dateadd(
                        'day', cutoff_offset + horizon, cdp.cdp_as_of_date()
                    ) }}
                {%- endif %} as label_end_at
            {%- if not loop.last %}
                union all
            {%- endif %}
        {%- endfor %}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {% endfor %}

),

final as (

    select
        cast(model_name as {{ dbt.type_string() }}) as model_name,
        cast(window_role as {{ dbt.type_string() }}) as window_role,
        cast(horizon_days as integer) as horizon_days,
        cast(cutoff_at as date) as cutoff_date,
        cast(label_end_at as date) as label_end_date
    from windows

)

select * from final
