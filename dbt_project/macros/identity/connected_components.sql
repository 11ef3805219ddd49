{#- Materialization `connected_components`: the model's SQL returns the
    edges of a graph as two columns, node_a and node_b (include a self-edge
    (n, n) for every node that must appear even without links). The result
    is a table with one row per node: the node (config node_column, default
    'node'), the smallest node of its connected component (config
    component_column, default 'component') and the number of iterations the
    computation needed (column `iterations`).

    Each iteration is one portable SQL statement (identity_components_iteration)
    run on working tables next to the model: minimum-label propagation along
    the edges, with the new minimum also handed to the node's current label
    (hooking) and labels followed one step further (pointer jumping), so a
    chain of n records converges in about log2(n) iterations instead of n.
    It repeats until no label changes; no fixed number of passes. More than
    config max_iterations (default 100) stops the build. -#}
{% materialization connected_components, default -%}
    {%- set node_column = config.get('node_column', 'node') -%}
    {%- set component_column = config.get('component_column', 'component') -%}
    {%- set max_iterations = config.get('max_iterations', 100) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set work = {} -%}
    {%- for part in ['edges', 'labels', 'next', 'result'] -%}
        {%- do work.update({part: api.Relation.create(
            database=this.database,
            schema=this.schema,
            identifier=this.identifier ~ '__cc_' ~ part,
            type='table'
        )}) -%}
    {%- endfor -%}

    {{ run_hooks(pre_hooks) }}
    {%- for part in work.values() -%}
        {%- do adapter.drop_relation(part) -%}
    {%- endfor -%}

    {%- call statement('edges') -%}
        {{ get_create_table_as_sql(False, work.edges, (
            'select node_a, node_b from (' ~ sql ~ ') as model_edges'
            ~ ' where node_a is not null and node_b is not null'
            ~ ' union select node_b as node_a, node_a as node_b from (' ~ sql ~ ') as model_edges'
            ~ ' where node_a is not null and node_b is not null'
        )) }}
    {%- endcall -%}
    {%- call statement('labels') -%}
        {{ get_create_table_as_sql(False, work.labels, (
            'select node_a as node, min(case when node_b < node_a then node_b else node_a end)'
            ~ ' as label from ' ~ work.edges ~ ' group by node_a'
        )) }}
    {%- endcall -%}

    {%- set state = namespace(done=false, iterations=0) -%}
    {%- for iteration in range(1, max_iterations + 1) -%}
        {%- if not state.done -%}
            {%- call statement('iteration') -%}
                {{ get_create_table_as_sql(
                    False, work.next, cdp.identity_components_iteration(work.edges, work.labels)
                ) }}
            {%- endcall -%}
            {%- set changed = run_query(
                'select count(*) from ' ~ work.next ~ ' as next_labels inner join '
                ~ work.labels ~ ' as labels on next_labels.node = labels.node'
                ~ ' where next_labels.label <> labels.label'
            ).columns[0].values()[0] -%}
            {%- do adapter.drop_relation(work.labels) -%}
            {%- do adapter.rename_relation(work.next, work.labels) -%}
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
    {{ log(this.identifier ~ ': connected components converged in '
        ~ state.iterations ~ ' iterations', info=true) }}

    {%- call statement('main') -%}
        {{ get_create_table_as_sql(False, work.result, (
            'select node as ' ~ node_column ~ ', label as ' ~ component_column
            ~ ', ' ~ state.iterations ~ ' as iterations from ' ~ work.labels
        )) }}
    {%- endcall -%}
    {%- if existing_relation is not none -%}
        {%- do adapter.drop_relation(existing_relation) -%}
    {%- endif -%}
    {%- do adapter.rename_relation(work.result, target_relation) -%}
    {%- do adapter.drop_relation(work.edges) -%}
    {%- do adapter.drop_relation(work.labels) -%}
    {%- do persist_docs(target_relation, model) -%}

    {{ run_hooks(post_hooks) }}
    {{ adapter.commit() }}
    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}
