with

source as (

    select * from {{ source('predictions', 'model_evaluations') }}

),

final as (

    select
        model_name,
        metric_name,
        baseline_name,
        model_value,
        baseline_value,
        is_higher_better,
        beats_baseline,
        is_primary_metric,
        train_cutoff_date,
        holdout_cutoff_date,
        holdout_label_end_date,
        holdout_rows,
        as_of_date
    from source

)

select * from final
