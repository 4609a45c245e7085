// Conv/fc schedule of the engine (CONV instruction, docs/engine.md): walks groups, output pixels
// and taps, reads one activation word and one weight word per cycle, drives the PE array and
// accumulates per output pixel. Address generators use adders only; the compiler supplies every
// product (pitch_sh, ncg_sw, in_start). Padding taps feed the centred value 0, so they cost a
// cycle but no special case in the datapath.
module gatec_conv_unit #(
  parameter int unsigned PeOc         = 8,
  parameter int unsigned L            = 8,
  parameter int unsigned InAddrWidth  = 16,
  parameter int unsigned WAddrWidth   = 16,
  parameter int unsigned PAddrWidth   = 6,
  parameter int unsigned OutAddrWidth = 16,
  localparam int unsigned LaneIdxWidth = (L > 1) ? $clog2(L) : 1,
  localparam int unsigned WordCntWidth = $clog2(((PeOc > L) ? PeOc / L : 1) + 1)
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  input  logic                        start_i,
  input  logic [511:0]                instr_i,
  output logic                        busy_o,
  // activation word, weight word and param row: each arrives the cycle after its read enable
  output logic                        in_re_o,
  output logic [InAddrWidth-1:0]      in_addr_o,
  input  logic [L*8-1:0]              in_word_i,
  output logic                        w_re_o,
  output logic [WAddrWidth-1:0]       w_addr_o,
  input  logic [PeOc*L*8-1:0]         w_word_i,
  output logic                        p_re_o,
  output logic [PAddrWidth-1:0]       p_addr_o,
  input  logic [PeOc*64-1:0]          p_row_i,
  // results towards the requant bank and output writer
  input  logic                        wr_busy_i,
  output logic                        res_valid_o,
  output logic [PeOc*32-1:0]          res_acc_o,
  output logic [PeOc*15-1:0]          res_mult_o,
  output logic [PeOc*6-1:0]           res_shift_o,
  output logic [OutAddrWidth-1:0]     res_addr_o,
  output logic [WordCntWidth-1:0]     res_words_o,
  output logic [OutAddrWidth-1:0]     res_stride_o,
  output logic [LaneIdxWidth-1:0]     res_lane_o,
  output logic signed [7:0]           zp_out_o,
  output logic signed [7:0]           lo_o,
  output logic signed [7:0]           hi_o
);
  localparam int unsigned AW = 24;
  localparam int unsigned CW = 18;
  localparam int unsigned WordsPerPixel = (PeOc > L) ? PeOc / L : 1;
  localparam int unsigned PcWidth = $clog2(WordsPerPixel + 1) + 1;

  typedef enum logic [2:0] {SIdle, SGroupWait, SGroupLoad, SRun, SDrain} state_e;
  state_e state_q;

  logic [15:0] h [32];
  always_comb begin
    for (int unsigned k = 0; k < 32; k++) h[k] = instr_i[16*k +: 16];
  end

  // instruction fields, captured at start
  logic signed [AW-1:0] in_start_q;
  logic [15:0] img_h_q, img_w_q, in_pitch_q, ncg_in_q, ciw0_q, nciw_q, oy_cnt_q, out_w_q;
  logic [7:0]  kh_q, kw_q, sh_q, sw_q, pl_q;
  logic signed [CW-1:0] iy0_q;
  logic [15:0] gstride_q, ng_q, pb0_q, out_base_q, out_pitch_q, ncg_out_q, pitch_sh_q, ncg_sw_q;
  logic [15:0] cw_stride_q, out_cw_stride_q;
  logic signed [7:0] zp_in_q;

  // loop state
  logic [15:0] gi_q, oy_q, ox_q, j_q;
  logic [7:0]  ky_q, kx_q;
  logic [PcWidth-1:0] pc_q, bub_q;
  logic signed [AW-1:0] a_row_q, a_pix_q, a_trow_q, a_tap_q, a_cur_q;
  logic signed [CW-1:0] iy_row_q, iy_q, ix_pix_q, ix_q;
  logic [AW-1:0] wg_q, wa_q, o_row_q, o_pix_q;
  // the current group's first output word (offset within a pixel) and lane, and the words left
  logic [AW-1:0] cow_q, goff_q;
  logic [LaneIdxWidth-1:0] glane_q;
  logic [15:0] wleft_q;
  // Two parameter sets (bias, multiplier, shift, output words): group gi uses set gi[0], so the
  // next group's row loads while the previous group's last results are still in the pipeline.
  logic [LaneIdxWidth-1:0] lane_q [2];
  logic [WordCntWidth-1:0] words_q [2];
  logic [PeOc*64-1:0] param_q [2];
  logic gsel;
  assign gsel = gi_q[0];

  logic last_j, last_kx, last_ky, last_ox, last_oy, last_g, issue, drained;
  assign last_j  = (j_q == nciw_q - 16'd1);
  assign last_kx = (kx_q == kw_q - 8'd1);
  assign last_ky = (ky_q == kh_q - 8'd1);
  assign last_ox = (ox_q == out_w_q - 16'd1);
  assign last_oy = (oy_q == oy_cnt_q - 16'd1);
  assign last_g  = (gi_q == ng_q - 16'd1);
  assign issue   = (state_q == SRun) && (bub_q == '0);

  // pipeline side band: S1 (buffer data), S2 (products), S3 (row sums)
  logic v1_q, v2_q, v3_q, pad1_q, first1_q, first2_q, first3_q, last1_q, last2_q, last3_q;
  logic g1_q, g2_q, g3_q, gres_q;
  logic [OutAddrWidth-1:0] oaddr1_q, oaddr2_q, oaddr3_q;
  logic res_valid_q, set_free;
  logic [PeOc*32-1:0] acc_q, res_acc_q;
  logic [OutAddrWidth-1:0] res_addr_q;

  assign drained  = !(v1_q || v2_q || v3_q || res_valid_q || wr_busy_i);
  // no result of the group two back (same parameter set) is still on its way to the requant bank
  assign set_free = !((v1_q && g1_q == gsel) || (v2_q && g2_q == gsel) || (v3_q && g3_q == gsel) ||
                      (res_valid_q && gres_q == gsel));
  assign busy_o  = (state_q != SIdle);

  logic tap_pad;
  assign tap_pad = (iy_q < 0) || (iy_q >= $signed({2'b00, img_h_q})) ||
                   (ix_q < 0) || (ix_q >= $signed({2'b00, img_w_q}));


  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= SIdle;
      gi_q <= '0; oy_q <= '0; ox_q <= '0; j_q <= '0; ky_q <= '0; kx_q <= '0;
      pc_q <= '0; bub_q <= '0;
    end else begin
      case (state_q)
        SIdle: if (start_i) begin
          in_start_q  <= AW'($signed({h[3], h[2]}));
          img_h_q     <= h[4];
          img_w_q     <= h[5];
          in_pitch_q  <= h[6];
          ncg_in_q    <= h[7];
          ciw0_q      <= h[8];
          nciw_q      <= h[9];
          iy0_q       <= CW'($signed(h[10]));
          oy_cnt_q    <= h[11];
          out_w_q     <= h[12];
          {kw_q, kh_q} <= h[13];
          {sw_q, sh_q} <= h[14];
          pl_q        <= h[15][15:8];
          wg_q        <= AW'(h[16]);
          gstride_q   <= h[17];
          ng_q        <= h[18];
          pb0_q       <= h[19];
          goff_q      <= AW'(h[20]);
          glane_q     <= h[24][8 +: LaneIdxWidth];
          wleft_q     <= h[27];
          out_base_q  <= h[21];
          out_pitch_q <= h[22];
          ncg_out_q   <= h[23];
          zp_in_q     <= h[24][7:0];
          zp_out_o    <= h[25][7:0];
          lo_o        <= h[26][7:0];
          hi_o        <= h[26][15:8];
          pitch_sh_q  <= h[28];
          ncg_sw_q    <= h[29];
          cw_stride_q <= h[30];
          out_cw_stride_q <= h[31];
          gi_q        <= '0;
          state_q     <= SGroupWait;
        end
        SGroupWait: if (set_free) state_q <= SGroupLoad;
        SGroupLoad: begin
          param_q[gsel] <= p_row_i;
          cow_q         <= goff_q;
          lane_q[gsel]  <= glane_q;
          if (PeOc > L) begin
            words_q[gsel] <= (wleft_q < 16'(WordsPerPixel)) ? WordCntWidth'(wleft_q) : WordCntWidth'(WordsPerPixel);
          end else begin
            words_q[gsel] <= WordCntWidth'(1);
          end
          oy_q <= '0; ox_q <= '0; ky_q <= '0; kx_q <= '0; j_q <= '0; pc_q <= '0; bub_q <= '0;
          a_row_q  <= in_start_q;
          a_pix_q  <= in_start_q;
          a_trow_q <= in_start_q;
          a_tap_q  <= in_start_q;
          a_cur_q  <= in_start_q + AW'(ciw0_q);
          iy_row_q <= iy0_q;
          iy_q     <= iy0_q;
          ix_pix_q <= -(CW'(pl_q));
          ix_q     <= -(CW'(pl_q));
          wa_q     <= wg_q;
          o_row_q  <= AW'(out_base_q);
          o_pix_q  <= AW'(out_base_q);
          state_q  <= SRun;
        end
        SRun: if (bub_q != '0) begin
          bub_q <= bub_q - PcWidth'(1);
        end else begin
          if (pc_q < PcWidth'(WordsPerPixel)) pc_q <= pc_q + PcWidth'(1);
          if (!last_j) begin
            j_q     <= j_q + 16'd1;
            a_cur_q <= a_cur_q + AW'(cw_stride_q);
            wa_q    <= wa_q + AW'(1);
          end else if (!last_kx) begin
            j_q     <= '0;
            kx_q    <= kx_q + 8'd1;
            a_tap_q <= a_tap_q + AW'(ncg_in_q);
            a_cur_q <= a_tap_q + AW'(ncg_in_q) + AW'(ciw0_q);
            ix_q    <= ix_q + CW'(1);
            wa_q    <= wa_q + AW'(1);
          end else if (!last_ky) begin
            j_q      <= '0;
            kx_q     <= '0;
            ky_q     <= ky_q + 8'd1;
            a_trow_q <= a_trow_q + AW'(in_pitch_q);
            a_tap_q  <= a_trow_q + AW'(in_pitch_q);
            a_cur_q  <= a_trow_q + AW'(in_pitch_q) + AW'(ciw0_q);
            iy_q     <= iy_q + CW'(1);
            ix_q     <= ix_pix_q;
            wa_q     <= wa_q + AW'(1);
          end else begin
            // Last tap of the pixel: the output writer needs WordsPerPixel cycles per result.
            j_q  <= '0;
            kx_q <= '0;
            ky_q <= '0;
            pc_q <= '0;
            bub_q <= (pc_q + PcWidth'(1) < PcWidth'(WordsPerPixel))
                     ? PcWidth'(WordsPerPixel) - pc_q - PcWidth'(1) : '0;
            wa_q <= wg_q;
            if (!last_ox) begin
              ox_q     <= ox_q + 16'd1;
              a_pix_q  <= a_pix_q + AW'(ncg_sw_q);
              a_trow_q <= a_pix_q + AW'(ncg_sw_q);
              a_tap_q  <= a_pix_q + AW'(ncg_sw_q);
              a_cur_q  <= a_pix_q + AW'(ncg_sw_q) + AW'(ciw0_q);
              ix_pix_q <= ix_pix_q + CW'(sw_q);
              ix_q     <= ix_pix_q + CW'(sw_q);
              iy_q     <= iy_row_q;
              o_pix_q  <= o_pix_q + AW'(ncg_out_q);
            end else if (!last_oy) begin
              ox_q     <= '0;
              oy_q     <= oy_q + 16'd1;
              a_row_q  <= a_row_q + AW'(pitch_sh_q);
              a_pix_q  <= a_row_q + AW'(pitch_sh_q);
              a_trow_q <= a_row_q + AW'(pitch_sh_q);
              a_tap_q  <= a_row_q + AW'(pitch_sh_q);
              a_cur_q  <= a_row_q + AW'(pitch_sh_q) + AW'(ciw0_q);
              iy_row_q <= iy_row_q + CW'(sh_q);
              iy_q     <= iy_row_q + CW'(sh_q);
              ix_pix_q <= -(CW'(pl_q));
              ix_q     <= -(CW'(pl_q));
              o_row_q  <= o_row_q + AW'(out_pitch_q);
              o_pix_q  <= o_row_q + AW'(out_pitch_q);
            end else begin
              gi_q    <= gi_q + 16'd1;
              wg_q    <= wg_q + AW'(gstride_q);
              // the next group's output words: PeOc/L words on, or one word once the lanes wrap
              if (PeOc >= L) begin
                goff_q  <= goff_q + (AW'(out_cw_stride_q) << $clog2(WordsPerPixel));
                wleft_q <= wleft_q - 16'(WordsPerPixel);
              end else begin
                glane_q <= glane_q + LaneIdxWidth'(PeOc);
                if (32'(glane_q) + PeOc >= L) goff_q <= goff_q + AW'(out_cw_stride_q);
              end
              state_q <= last_g ? SDrain : SGroupWait;
            end
          end
        end
        SDrain: if (drained) state_q <= SIdle;
        default: state_q <= SIdle;
      endcase
    end
  end

  // reads for the tap being issued (or the param row of the group about to load)
  assign in_re_o   = issue;
  assign in_addr_o = InAddrWidth'(a_cur_q);
  assign w_re_o    = issue;
  assign w_addr_o  = WAddrWidth'(wa_q);
  assign p_re_o    = (state_q == SGroupWait) && set_free;
  assign p_addr_o  = PAddrWidth'(pb0_q + gi_q);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v1_q <= 1'b0; v2_q <= 1'b0; v3_q <= 1'b0;
    end else begin
      v1_q <= issue;
      v2_q <= v1_q;
      v3_q <= v2_q;
    end
  end

  always_ff @(posedge clk_i) begin
    pad1_q   <= tap_pad;
    first1_q <= (j_q == '0) && (kx_q == '0) && (ky_q == '0);
    last1_q  <= last_j && last_kx && last_ky;
    oaddr1_q <= OutAddrWidth'(o_pix_q + cow_q);
    g1_q     <= gsel;
    first2_q <= first1_q; last2_q <= last1_q; oaddr2_q <= oaddr1_q; g2_q <= g1_q;
    first3_q <= first2_q; last3_q <= last2_q; oaddr3_q <= oaddr2_q; g3_q <= g2_q;
  end

  logic [L*9-1:0] x_centred;
  always_comb begin
    for (int unsigned c = 0; c < L; c++) begin
      x_centred[c*9 +: 9] = pad1_q ? 9'd0
                          : 9'($signed(in_word_i[c*8 +: 8])) - 9'($signed(zp_in_q));
    end
  end

  logic              sum_valid;
  logic [PeOc*32-1:0] sum;
  gatec_pe_array #(.PeOc(PeOc), .PeIc(L), .SumWidth(32)) u_pe_array (
    .clk_i,
    .rst_ni,
    .valid_i (v1_q),
    .x_i     (x_centred),
    .w_i     (w_word_i),
    .valid_o (sum_valid),
    .sum_o   (sum)
  );

  // The accumulator starts from the bias at a pixel's first tap.
  logic [PeOc*32-1:0] acc_next;
  always_comb begin
    for (int unsigned r = 0; r < PeOc; r++) begin
      acc_next[r*32 +: 32] = (first3_q ? param_q[g3_q][r*64 +: 32] : acc_q[r*32 +: 32]) + sum[r*32 +: 32];
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) res_valid_q <= 1'b0;
    else res_valid_q <= sum_valid && v3_q && last3_q;
  end

  always_ff @(posedge clk_i) begin
    if (sum_valid) acc_q <= acc_next;
    if (sum_valid && last3_q) begin
      res_acc_q  <= acc_next;
      res_addr_q <= oaddr3_q;
      gres_q     <= g3_q;
    end
  end

  assign res_valid_o = res_valid_q;
  assign res_acc_o   = res_acc_q;
  assign res_addr_o  = res_addr_q;
  assign res_words_o = words_q[gres_q];
  assign res_stride_o = OutAddrWidth'(out_cw_stride_q);
  assign res_lane_o  = lane_q[gres_q];
  always_comb begin
    for (int unsigned r = 0; r < PeOc; r++) begin
      res_mult_o[r*15 +: 15] = param_q[gres_q][r*64 + 32 +: 15];
      res_shift_o[r*6 +: 6]  = param_q[gres_q][r*64 + 48 +: 6];
    end
  end
endmodule
