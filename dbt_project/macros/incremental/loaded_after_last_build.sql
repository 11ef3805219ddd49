{#- A filter for a model built incrementally from incremental staging
    models: rows whose `_loaded_at` (carried from raw) is later than the
    latest one this model holds. Use inside `{% if is_incremental() %}`. -#}
{% macro loaded_after_last_build() -%}
    {{ return(adapter.dispatch('loaded_after_last_build', 'cdp')()) }}
{%- endmacro %}

{% macro default__loaded_after_last_build() -%}
    _loaded_at > (
        select coalesce(max(_loaded_at), {{ cdp.incremental_epoch() }})
        from {{ this }}
    )
{%- endmacro %}
