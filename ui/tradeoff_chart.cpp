#include "ui/tradeoff_chart.h"

#include <QtCharts/QChart>
#include <QtCharts/QLineSeries>
#include <QtCharts/QScatterSeries>
#include <QtCharts/QValueAxis>
#include <algorithm>

namespace respo::ui {

TradeoffChart::TradeoffChart(QWidget* parent) : QChartView(parent) {
  setObjectName("tradeoffChart");
  setRenderHint(QPainter::Antialiasing);
  clear();
}

void TradeoffChart::clear() {
  QChart* old = chart();
  auto* chart = new QChart;
  chart->setTitle(tr("Run a sweep to see its trade-off"));
  chart->legend()->hide();
  setChart(chart);
  delete old;
  points_ = front_ = 0;
}

void TradeoffChart::show(const std::vector<respo::report::TradeoffPoint>& points, const QString& metric) {
  QChart* old = chart();
  auto* chart = new QChart;
  chart->setTitle(tr("%1 vs. distance to the plain images (lower is better)").arg(metric));
  auto* all = new QScatterSeries;
  all->setName(tr("settings"));
  all->setMarkerSize(9);
  auto* front = new QLineSeries;
  front->setName(tr("Pareto front"));
  std::vector<std::pair<double, double>> onFront;
  double maxX = 0, maxY = 0;
  for (const auto& p : points) {
    all->append(p.distance, p.metric);
    maxX = std::max(maxX, p.distance);
    maxY = std::max(maxY, p.interval ? p.interval->high : p.metric);
    if (p.pareto) onFront.emplace_back(p.distance, p.metric);
  }
  std::sort(onFront.begin(), onFront.end());
  for (const auto& [x, y] : onFront) front->append(x, y);
  chart->addSeries(front);
  chart->addSeries(all);
  auto* x = new QValueAxis;
  x->setTitleText(tr("distance (RMS, pixels in [0, 1])"));
  x->setRange(0, std::max(0.01, maxX * 1.15));
  auto* y = new QValueAxis;
  y->setTitleText(metric);
  y->setRange(0, std::max(0.01, maxY * 1.15));
  chart->addAxis(x, Qt::AlignBottom);
  chart->addAxis(y, Qt::AlignLeft);
  for (auto* series : {static_cast<QXYSeries*>(front), static_cast<QXYSeries*>(all)}) {
    series->attachAxis(x);
    series->attachAxis(y);
  }
  chart->legend()->setAlignment(Qt::AlignBottom);
  setChart(chart);
  delete old;
  points_ = static_cast<int>(points.size());
  front_ = static_cast<int>(onFront.size());
}

}  // namespace respo::ui
