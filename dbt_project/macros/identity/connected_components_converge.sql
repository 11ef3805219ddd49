{#- The iteration loop of the connected_components materialization: runs
    identity_components_iteration from `labels` over the symmetric `edges`
    into `next`, swapping `next` into `labels`, until no label changes.
    Returns the number of iterations; stops the build after
    `max_iterations`. -#}
{% macro connected_components_converge(edges, labels, next, max_iterations) -%}
    {%- set state = namespace(done=false, iterations=0) -%}
    {%- for iteration in range(1, max_iterations + 1) -%}
        {%- if not state.done -%}
            {%- call statement('iteration') -%}
                {{ get_create_table_as_sql(
                    False, next, cdp.identity_components_iteration(edges, labels)
                ) }}
            {%- endcall -%}
            {%- set changed = run_query(
                'select count(*) from ' ~ next ~ ' as next_labels inner join '
                ~ labels ~ ' as labels on next_labels.node = labels.node'
                ~ ' where next_labels.label <> labels.label'
            ).columns[0].values()[0] -%}
            {%- do adapter.drop_relation(labels) -%}
            {%- do adapter.rename_relation(next, labels) -%}
            {%- set state.iterations = iteration -%}
            {%- if changed == 0 -%}
                {%- set state.done = true -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not state.done -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ ': connected components did not converge in '
            ~ max_iterations ~ ' iterations (config max_iterations)'
        ) }}
    {%- endif -%}
    {{ return(state.iterations) }}
{%- endmacro %}
