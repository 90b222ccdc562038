#include "ui/loss_chart.h"

#include <QtCharts/QChart>
#include <QtCharts/QLineSeries>
#include <QtCharts/QLogValueAxis>
#include <QtCharts/QValueAxis>
#include <algorithm>
#include <cmath>

namespace respo::ui {

LossChart::LossChart(QWidget* parent) : QChartView(parent) {
  setObjectName("lossChart");
  auto* chart = new QChart;
  chart->setTitle(tr("Losses"));
  responsible_ = new QLineSeries(chart);
  responsible_->setName(tr("L_resp (steering)"));
  semantic_ = new QLineSeries(chart);
  semantic_->setName(tr("L_sem (keeping the prompt)"));
  chart->addSeries(responsible_);
  chart->addSeries(semantic_);
  steps_ = new QValueAxis(chart);
  steps_->setTitleText(tr("step"));
  steps_->setLabelFormat("%d");
  loss_ = new QLogValueAxis(chart);
  loss_->setLabelFormat("%.0e");
  chart->addAxis(steps_, Qt::AlignBottom);
  chart->addAxis(loss_, Qt::AlignLeft);
  for (auto* series : {responsible_, semantic_}) series->attachAxis(steps_), series->attachAxis(loss_);
  chart->legend()->setAlignment(Qt::AlignBottom);
  setChart(chart);
  setRenderHint(QPainter::Antialiasing);
  setMinimumHeight(220);
  clear(1);
}

void LossChart::clear(int totalSteps) {
  responsible_->clear();
  semantic_->clear();
  steps_->setRange(0, std::max(1, totalSteps));
  low_ = 1e30, high_ = 0;
}

void LossChart::add(int step, double responsible, double semantic) {
  const double r = std::max(responsible, 1e-12), s = std::max(semantic, 1e-12);
  responsible_->append(step, r);
  semantic_->append(step, s);
  low_ = std::min({low_, r, s});
  high_ = std::max({high_, r, s});
  loss_->setRange(std::pow(10.0, std::floor(std::log10(low_))), std::pow(10.0, std::ceil(std::log10(high_))));
}

int LossChart::points() const { return static_cast<int>(responsible_->count()); }

}  // namespace respo::ui
