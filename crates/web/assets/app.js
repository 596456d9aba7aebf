// The pages' behaviour, in one file served from /static (the Content-Security-Policy allows no
// inline script). Each part acts only where its elements are; the data a chart draws is in a
// <script type="application/json"> block next to its canvas (data, never run).
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var fmt = function (n) { return n === null ? "—" : n.toLocaleString("zh-CN"); };

  // A form that asks first (data-confirm), e.g. approve and publish every claim at once.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });
  // A list of choices filled from a public list (the occupation catalog: 1,600 entries, cached
  // by the server, not sent with every page).
  document.querySelectorAll("datalist[data-src]").forEach(function (list) {
    fetch(list.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (items) {
        items.forEach(function (o) {
          var opt = document.createElement("option");
          opt.value = o.occupation_code;
          opt.textContent = o.name;
          list.appendChild(opt);
        });
      })
      .catch(function () {});
  });
  // A print button.
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  // The report picker goes to /reports/{period}.
  var chooser = document.getElementById("choose-period");
  if (chooser) {
    chooser.addEventListener("submit", function () {
      chooser.action = "/reports/" + encodeURIComponent(chooser.period.value);
    });
  }
  // The claim form shows (and sends) only the fields the chosen kind needs; the server checks
  // each kind's own.
  var kind = document.getElementById("kind");
  var worker = document.getElementById("worker-fields");
  var equipment = document.getElementById("equipment-fields");
  var project = document.getElementById("project-fields");
  if (kind && worker && equipment && project) {
    var show = function () {
      var eq = kind.value === "equipment_grant", pr = kind.value === "project_training";
      worker.hidden = worker.disabled = eq || pr;
      equipment.hidden = equipment.disabled = !eq;
      project.hidden = project.disabled = !pr;
    };
    kind.addEventListener("change", show);
    show();
  }
  if (typeof Chart === "undefined") { return; }

  // Home: each program's progress toward its own target, in percent: programs of 3,000 and of
  // 60,000 person-times read on one scale, and 100 % is the line to reach.
  var bars = data("programs-data");
  if (bars && document.getElementById("programs-chart")) {
    var top = Math.max(100, Math.ceil(Math.max.apply(null, bars.map(function (b) { return b.percent || 0; })) / 10) * 10);
    new Chart(document.getElementById("programs-chart"), {
      data: {
        labels: bars.map(function (b) { return b.percent === null ? b.code + "（待定）" : b.code; }),
        datasets: [
          { type: "bar", label: "完成率 % of target", data: bars.map(function (b) { return b.percent; }),
            backgroundColor: bars.map(function (b) { return b.percent !== null && b.percent >= 100 ? "#15803d" : "#1d4ed8"; }) },
          { type: "line", label: "目标 100% Target", data: bars.map(function () { return 100; }), borderColor: "#b91c1c",
            borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 }
        ]
      },
      options: { maintainAspectRatio: false, animation: false,
        scales: { y: { min: 0, max: top, ticks: { callback: function (v) { return v + "%"; } } } },
        plugins: { tooltip: { callbacks: {
          title: function (items) { var b = bars[items[0].dataIndex]; return b.code + " " + b.name_zh; },
          label: function (item) {
            var b = bars[item.dataIndex];
            if (item.datasetIndex === 1) { return "目标 Target 100%"; }
            if (b.percent === null) { return "目标待定 target pending · 完成 " + fmt(b.done); }
            return "完成 " + b.percent + "% · " + fmt(b.done) + " / " + fmt(b.target) + (b.unit === "persons" ? " 人" : " 人次");
          } } } } }
    });
  }

  // A program: every month of the plan's period, a month without training as zero.
  var m = data("months-data");
  if (m && document.getElementById("months-chart")) {
    new Chart(document.getElementById("months-chart"), {
      type: "line",
      data: { labels: m.map(function (r) { return r.key; }), datasets: [
        { label: "完成人次 Done", data: m.map(function (r) { return r.done.person_times; }), borderColor: "#b91c1c", tension: 0 },
        { label: "技能提升 Skill upgrade", data: m.map(function (r) { return r.done.skill_upgrade; }), borderColor: "#15803d", tension: 0 } ] },
      options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } }
    });
  }

  // A report: done toward the year's task, percent, for each program that has one.
  var rows = data("task-data");
  var taskChart = document.getElementById("task-chart");
  if (rows && taskChart) {
    if (!rows.length) {
      taskChart.parentNode.hidden = true;
    } else {
      new Chart(taskChart, {
        type: "bar",
        data: { labels: rows.map(function (l) { return l.code; }), datasets: [
          { label: "年度任务完成率 % Done toward the year's task", data: rows.map(function (l) { return parseFloat(l.task_pct); }), backgroundColor: "#b91c1c" } ] },
        options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, suggestedMax: 100 } } }
      });
    }
  }
})();
